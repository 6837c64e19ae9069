"""Small real files for the document tests: a PNG that image viewers open, a
PDF that names a marker in its text, the start of a JPEG; and text that only
pretends to be one of them."""
from __future__ import annotations

import struct
import zlib

from infra.demo import one_page_pdf


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def pdf(text: str = "Factuur") -> bytes:
    return one_page_pdf(text, font_size=12)


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def text_pretending(name: str = "factuur.pdf") -> bytes:
    return f"This is not a PDF, whatever {name} says.\n".encode()

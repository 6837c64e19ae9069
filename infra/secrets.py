"""Loading the platform's binary secrets (SIGNING_KEY, DATA_KEY): the base64
in the setting; in development, when unset, a key made once and kept in a file
under the data directory (0600). Production refuses to start without the
setting. One loader, so every secret is checked and reported the same way,
with the setting (or the file) named in the message."""
from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path


class SecretError(RuntimeError):
    """A secret is missing (in production) or is not what its setting requires."""


def load_secret(value: str | None, *, setting: str, dev_file: Path, production: bool, size: int = 32,
                what: str | None = None, error: type[SecretError] = SecretError) -> bytes:
    """The `size` bytes of the secret named `setting`. `value` is the setting's
    base64. Unset, production refuses (`error`, saying `what` it should hold)
    and development reads `dev_file`, making it once (concurrent first starts
    agree on one key)."""
    if value:
        return _decode(value, size, error, setting)
    if production:
        raise error(f"{setting} must be set in production (base64 of {what or f'{size} random bytes'})")
    return _decode(_made_once(dev_file, size), size, error, f"{dev_file} (used while {setting} is unset)")


def _decode(text: str, size: int, error: type[SecretError], source: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip())
    except binascii.Error:
        raw = b""
    if len(raw) != size:
        raise error(f"{source} must be the base64 of exactly {size} bytes")
    return raw


def _made_once(path: Path, size: int) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(os.urandom(size)).decode())
    return path.read_text()

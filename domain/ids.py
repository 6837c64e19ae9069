"""Aggregate ids: what `uuid.uuid4()` and `uuid.uuid5()` make, made faster.

The standard library's `UUID(bytes=..., version=...)` checks its arguments
in Python (about 1.2 us a UUID); an import of 10,000 placements makes five
ids a row. Here the same 128-bit value is computed (the version and RFC 4122
variant bits set as `UUID.__init__` sets them) and put in a `UUID` as its
own constructor leaves it (`int`, and `is_safe` unknown: what Python 3.14's
`UUID._from_int` does). tests/domain/test_ids.py checks them against the
standard library's.
"""
from __future__ import annotations

import hashlib
import os
from uuid import UUID, SafeUUID

# The version (4 bits at 76) and variant (2 bits at 62) fields cleared.
_FIELDS = ~((0xF000 << 64) | (0xC000 << 48))
_RFC_4122 = 0x8000 << 48
_V4 = (4 << 76) | _RFC_4122
_V5 = (5 << 76) | _RFC_4122
_UNKNOWN = SafeUUID.unknown
_new = object.__new__
_set = object.__setattr__


def _uuid(value: int) -> UUID:
    made = _new(UUID)
    _set(made, "int", value)
    _set(made, "is_safe", _UNKNOWN)
    return made


def id_of_int(value: int) -> UUID:
    """`UUID(int=value)` for a value known to fit in 128 bits (one read back
    from an id's own bytes)."""
    return _uuid(value)


def new_id() -> UUID:
    """A random id: `uuid.uuid4()`."""
    return _uuid((int.from_bytes(os.urandom(16), "big") & _FIELDS) | _V4)


def name_id(namespace: UUID, name: str) -> UUID:
    """The id of a name in a namespace: `uuid.uuid5(namespace, name)`."""
    digest = hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()
    return _uuid((int.from_bytes(digest[:16], "big") & _FIELDS) | _V5)

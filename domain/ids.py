"""Aggregate ids: what `uuid.uuid4()` and `uuid.uuid5()` make, made faster.

The standard library's `UUID(bytes=..., version=...)` checks its arguments
in Python (about 1.2 us a UUID); an import of 10,000 placements makes five
ids a row. Here the same 128-bit value is computed (the version and RFC 4122
variant bits set as `UUID.__init__` sets them) and put in a `UUID` as its
own constructor leaves it (`int`, and `is_safe` unknown: what Python 3.14's
`UUID._from_int` does). tests/domain/test_ids.py checks them against the
standard library's.

Random bytes (`random_bytes`: a new id's, an encryption's nonce) are the
operating system's (`os.urandom`), read 4 KB at a time rather than 16 bytes
at a time: in this virtual machine a call is 0.4 us alone and 2 us inside an
import (a system call each), and an import of 10,000 placements asks for
80,000. Each thread has its own 4 KB, so no two callers are ever given the
same bytes; a forked process starts with none (`os.register_at_fork`), so a
child never repeats its parent's (a repeated nonce under one key would break
AES-GCM). Key material is not taken from it: a key is read from
`os.urandom` directly, so no key sits in a buffer before it is one.
"""
from __future__ import annotations

import hashlib
import os
import threading
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


class _Pool(threading.local):
    """A thread's unused random bytes: `data[at:]`."""

    data = b""
    at = 0


_POOL_BYTES = 4096
_pool = _Pool()


def _forget_pool() -> None:
    global _pool
    _pool = _Pool()


# A forked child starts with no bytes of its parent's (multiprocessing's
# fork server and its children fork with os.fork, which runs this).
os.register_at_fork(after_in_child=_forget_pool)


def random_bytes(n: int) -> bytes:
    """`n` bytes from the operating system's random source, as `os.urandom(n)`
    gives them (see the module docstring). Not for key material."""
    pool = _pool
    at = pool.at
    end = at + n
    data = pool.data
    if end > len(data):
        data = pool.data = os.urandom(max(_POOL_BYTES, n))
        at, end = 0, n
    pool.at = end
    return data[at:end]


def new_id() -> UUID:
    """A random id: `uuid.uuid4()`."""
    return _uuid((int.from_bytes(random_bytes(16), "big") & _FIELDS) | _V4)


def name_id(namespace: UUID, name: str) -> UUID:
    """The id of a name in a namespace: `uuid.uuid5(namespace, name)`."""
    digest = hashlib.sha1(namespace.bytes + name.encode("utf-8")).digest()
    return _uuid((int.from_bytes(digest[:16], "big") & _FIELDS) | _V5)

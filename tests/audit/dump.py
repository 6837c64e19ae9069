"""What someone holding a dump of the database can read, for the erasure
tests: the plain pg_dump text, and every bytea in it decoded."""
from __future__ import annotations

import binascii
import json
import re
import subprocess
from pathlib import Path

import pgserver

from infra.database import connection_kwargs


def pg_dump(database_url: str) -> bytes:
    """A full plain-text pg_dump of the database (pgserver ships pg_dump)."""
    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    kw = connection_kwargs(database_url)
    out = subprocess.run([str(binary), "--no-owner", "-h", kw["host"], "-p", kw["port"], "-U", kw["user"],
                          kw["dbname"]], capture_output=True, check=True,
                         env={"PGPASSWORD": kw["password"], "PATH": "/usr/bin:/bin"})
    return out.stdout


# A bytea value in COPY text: \\x followed by hex digits.
_BYTEA = re.compile(rb"\\\\x((?:[0-9a-f]{2})+)")


def readable_dump(database_url: str) -> bytes:
    """What someone holding a dump can read: the plain pg_dump text, and every
    bytea in it decoded (the stored events' state is JSON in a bytea column,
    which the dump shows as hex; sessions too), JSON re-encoded unescaped."""
    plain = pg_dump(database_url)
    decoded = []
    for match in _BYTEA.finditer(plain):
        raw = binascii.unhexlify(match.group(1))
        decoded.append(raw)
        try:
            decoded.append(json.dumps(json.loads(raw), ensure_ascii=False).encode())
        except ValueError:
            pass
    return b"\n".join([plain, *decoded])

"""Array parameters written as PostgreSQL array literals (infra/database.py),
read back by a real PostgreSQL exactly as given."""
from __future__ import annotations

import uuid

import psycopg

from infra.database import bytea_array, text_array, uuid_array

AWKWARD = ["", "NULL", "null", "a,b", "{x}", '"quoted"', "back\\slash", "\\\\", " spaced ", "tab\there",
           "new\nline", "é ü 😀", "'single'", "\\x00"]


def test_each_kind_of_array_reads_back_as_given(database_url: str) -> None:
    ids = [uuid.uuid4(), None, uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.UUID(int=1)]
    blobs = [bytes(range(256)), b"", b"\\", b'"']
    with psycopg.connect(database_url) as conn:
        texts, uuids, byteas = conn.execute("SELECT %s::text[], %s::uuid[], %s::bytea[]",
                                            (text_array(AWKWARD), uuid_array(ids), bytea_array(blobs))).fetchone()
    assert texts == AWKWARD
    assert uuids == ids
    assert [bytes(b) for b in byteas] == blobs


def test_empty_arrays(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT %s::text[], %s::uuid[], %s::bytea[]",
                            (text_array([]), uuid_array([]), bytea_array([]))).fetchone() == ([], [], [])

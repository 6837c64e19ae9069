"""events.import_rows keys its rows by their hex digests compared byte by
byte (COLLATE "C"), in a new database and in one whose table was made before."""
from __future__ import annotations

import uuid

import psycopg

from infra import import_store
from infra.database import drop_database, ensure_database_exists, with_database
from infra.eventstore import EventStoreDatabase

OLD_TABLE = """
CREATE SCHEMA IF NOT EXISTS events;
CREATE TABLE events.import_rows (tenant_id uuid NOT NULL, row_key text NOT NULL, kind text NOT NULL,
    record_id uuid NOT NULL, import_id uuid NOT NULL, PRIMARY KEY (tenant_id, row_key));
"""


def row_key_collation(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation"
                            " WHERE a.attrelid = 'events.import_rows'::regclass AND a.attname = 'row_key'"
                            ).fetchone()[0]


def test_the_rows_table_compares_its_keys_byte_by_byte(system):
    assert row_key_collation(system.database_url) == "C"


def test_a_table_made_before_is_moved_to_it_keeping_its_rows(database_url):
    url = with_database(database_url, f"sroi_rows_{uuid.uuid4().hex[:8]}")
    ensure_database_exists(url)
    try:
        tenant, record, import_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(OLD_TABLE)
            conn.execute("INSERT INTO events.import_rows VALUES (%s, %s, 'candidate', %s, %s)",
                         (tenant, "ab" * 32, record, import_id))
        assert row_key_collation(url) != "C"
        database = EventStoreDatabase(url, 2)
        try:
            database.migrate()
            import_store.migrate_rows(database)
            import_store.migrate_rows(database)  # again: nothing to do
            assert row_key_collation(url) == "C"
            assert import_store.known_rows(database, tenant, ["ab" * 32, "cd" * 32]) == {"ab" * 32: record}
        finally:
            database.close()
    finally:
        drop_database(url)

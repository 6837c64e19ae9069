"""Fixtures of the multi-server tests (test_tenant_databases.py, test_topology.py)."""
from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest

from infra.database import ensure_database_exists, with_database


@pytest.fixture(scope="session")
def second_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second PostgreSQL cluster of our own, with a database `sroi_b` (the
    embedded server's binaries, from the `pgserver` wheel: always here);
    one for the run (each test's tenants are its own), stopped and deleted
    at its end."""
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("pg-b"), cleanup_mode="delete")
    url = with_database(server.get_uri(), "sroi_b")
    ensure_database_exists(url)
    try:
        yield url
    finally:
        server.cleanup()

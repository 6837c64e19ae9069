"""Duties tests use the read-side helpers of tests/projections (real ledger,
real projection runner, real asyncpg queries)."""
from tests.projections.conftest import books, client, new_books, pool  # noqa: F401  (fixtures)

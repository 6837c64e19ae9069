"""The duties read model's reminder list of a tenant, read as the pages and
the API read it (asyncpg), for the reminder tests."""
from __future__ import annotations

import asyncio

import asyncpg

from infra.bootstrap import System
from projections import duties
from tests.projections.conftest import Books


def reminders_listed(system: System, books: Books) -> list[dict]:
    async def go() -> list[dict]:
        conn = await asyncpg.connect(system.database_url)
        try:
            return await duties.reminders(conn, books.tenant.id)
        finally:
            await conn.close()
    return asyncio.run(go())

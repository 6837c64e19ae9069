"""Pages that show special-category data (support needs, feedback comments)
log each view, as the API does; auditors read that log."""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from infra.bootstrap import System
from projections import access_log
from service import commands as c
from tests.web.conftest import Agency, Browser


@pytest.fixture(scope="module")
async def pool(database_url: str, system: System) -> AsyncIterator[asyncpg.Pool]:
    p = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    yield p
    await p.close()


async def test_pages_that_show_special_category_data_leave_a_trace_in_the_access_log(
        agency: Agency, pool: asyncpg.Pool, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.run(c.GiveFeedback(placement_id=ids["placement"], score=4, from_role="coach",
                              comment="Rugklachten besproken."))
    user = agency.user("agency")
    me = pages(user)
    assert me.get(f"/candidates/{ids['candidate']}").status_code == 200
    assert me.get(f"/placements/{ids['placement']}").status_code == 200
    auditor = pages(agency.user("auditor"))
    assert auditor.get(f"/candidates/{ids['candidate']}").status_code == 200  # no support needs shown
    entries = await access_log.access_log(pool, agency.tenant.id, subject_id=ids["candidate"])
    seen = sorted((e["user_id"], tuple(e["fields"])) for e in entries)
    # The candidate's page, and the placement's support section (the needs in its checklist).
    assert seen == [(str(user.id), ("feedback comments",)), (str(user.id), ("support_needs",)),
                    (str(user.id), ("support_needs",))]

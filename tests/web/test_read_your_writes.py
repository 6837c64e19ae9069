"""A page opened right after a change waits (bounded) for its read models; if
the worker is still behind, the page says so and, with htmx, asks again until
the change shows: the user never has to reload by hand."""
from __future__ import annotations

from typing import Any

import psycopg

from projections.registry import BY_NAME
from projections.writer import ProjectionRunner
from service import commands as c
from tests.web.conftest import Agency, expect, login


def test_a_page_behind_its_read_model_shows_the_change_by_itself_once_the_worker_catches_up(
        agency: Agency, page: Any) -> None:
    agency.seed()
    agency.project()
    login(page, agency.user("agency").email)
    system = agency.system
    runner = ProjectionRunner(system.stores.database(agency.tenant.database), BY_NAME["directory"])
    notice = page.locator("main p.notice[role=status]")
    with psycopg.connect(system.database_url, autocommit=True) as conn:
        # The worker cannot project this tenant's directory while we hold its lock.
        conn.execute("SELECT pg_advisory_lock(%s)", (runner.live_lock_key(agency.tenant),))
        result = system.ledger.execute(agency.tenant, agency.actor, c.RegisterEmployer(name="Hollandia Staal B.V."))
        page.goto(f"/employers?min_position={result.position}")
        expect(notice).to_contain_text("worden nog bijgewerkt")
        assert page.get_by_role("cell", name="Hollandia Staal B.V.", exact=True).count() == 0
        page.evaluate("window.notReloaded = true")
        conn.execute("SELECT pg_advisory_unlock(%s)", (runner.live_lock_key(agency.tenant),))
    expect(page.get_by_role("cell", name="Hollandia Staal B.V.", exact=True)).to_be_visible(timeout=30_000)
    expect(notice).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the page's main part

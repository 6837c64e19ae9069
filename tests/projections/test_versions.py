"""A projection whose version is raised is rebuilt by the worker.

When what a projection writes changes (a new column, a figure computed
differently), its `version` goes up. Generations an older version built are
then stale: the sweep finds them, the `rebuild_outdated` actor builds a new
generation beside the live one and switches over, and as-of generations
cached by the older version are built afresh.
"""
from __future__ import annotations

from datetime import date

import dramatiq
from dramatiq.brokers.stub import StubBroker

from infra.actors import declare_actors
from projections.base import RM
from projections.registry import BY_NAME, QUEUE, outdated_generations
from service import commands as c
from tests.projections.conftest import catch_up, live, runner, snapshot


def live_version(books, name: str) -> int:
    with books.system.stores.database(books.tenant.database).connection() as conn:
        return conn.execute(f"SELECT version FROM {RM}.live WHERE projection = %s AND tenant_id = %s",
                            (name, books.tenant.id)).fetchone()["version"]


def mine(books) -> set[str]:
    return {name for tenant_id, name in outdated_generations(books.system.registry.list_tenants(), books.system.stores) if tenant_id == books.tenant.id}


def test_a_raised_version_is_found_by_the_sweep_and_rebuilt_once(books, monkeypatch):
    employer = books.employer()
    books.placement(books.candidate(), employer, books.contract(employer), starts_on=date(2026, 1, 5))
    catch_up(books.system, books.tenant)
    before_rows, before_gen = snapshot(books.system, books.tenant), live(books.system, books.tenant)
    assert mine(books) == set()
    current = BY_NAME["directory"].version

    monkeypatch.setattr(BY_NAME["directory"], "version", current + 1)
    found = mine(books)
    broker = StubBroker()
    actors = declare_actors(broker, books.system)
    actors["sweep"]()
    queued = []
    while broker.queues[QUEUE].qsize():
        message = dramatiq.Message.decode(broker.queues[QUEUE].get_nowait())
        if message.actor_name == "rebuild_outdated":
            queued.append(tuple(message.args))
    for args in queued:
        if args[0] == str(books.tenant.id):
            actors["rebuild_outdated"].fn(*args)
    again = runner(books.system, books.tenant, "directory").rebuild_if_outdated(books.tenant)
    after_gen = live(books.system, books.tenant)

    assert found == {"directory"}
    assert (str(books.tenant.id), "directory") in queued
    assert live_version(books, "directory") == current + 1
    assert after_gen["directory"] != before_gen["directory"]  # a new generation went live
    assert {k: v for k, v in after_gen.items() if k != "directory"} == \
        {k: v for k, v in before_gen.items() if k != "directory"}
    assert snapshot(books.system, books.tenant) == before_rows  # same rows, rebuilt
    assert mine(books) == set()
    assert again is None  # current now: nothing to do


def test_an_as_of_generation_built_by_an_older_version_is_built_afresh(books, monkeypatch):
    employer = books.employer()
    books.run(c.RegisterEmployer(name="Tweede Bedrijf B.V."))
    position = books.head()
    directory = runner(books.system, books.tenant, "directory")
    gen = directory.as_of(books.tenant, position)
    with books.system.stores.database(books.tenant.database).connection() as conn:
        conn.execute(f"UPDATE {RM}.d_employers SET name = 'tampered' WHERE tenant_id = %s AND gen = %s"
                     " AND employer_id = %s", (books.tenant.id, gen, employer))

    reused = directory.as_of(books.tenant, position)  # same version: the cached generation is reused
    with books.system.stores.database(books.tenant.database).connection() as conn:
        cached = conn.execute(f"SELECT name FROM {RM}.d_employers WHERE tenant_id = %s AND gen = %s"
                              " AND employer_id = %s", (books.tenant.id, gen, employer)).fetchone()["name"]
    monkeypatch.setattr(BY_NAME["directory"], "version", BY_NAME["directory"].version + 1)
    rebuilt = runner(books.system, books.tenant, "directory").as_of(books.tenant, position)
    with books.system.stores.database(books.tenant.database).connection() as conn:
        fresh = conn.execute(f"SELECT name FROM {RM}.d_employers WHERE tenant_id = %s AND gen = %s"
                             " AND employer_id = %s", (books.tenant.id, gen, employer)).fetchone()["name"]

    assert reused == rebuilt == gen
    assert cached == "tampered"
    assert fresh == "Bouwbedrijf De Vries"

"""A projection reads the events it has a method for, and only real ones.

Each projection handles an event by a method `on_<EventName>`; the list of
events it reads is derived from those methods, so a handler written is a
handler run, and a misspelt one (`on_PlacementStared`) names no event of the
domain and is caught here rather than silently never called.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date

import pytest
from eventsourcing.domain import DomainEvent

import domain
from projections.base import Event, Projection, Table
from projections.writer import Batch, ProjectionRunner, migrate
from projections.registry import PROJECTIONS
from service import commands as c


def domain_event_names() -> set[str]:
    """The class name of every event of every aggregate in the domain package
    (what a stored event's topic ends with)."""
    names: set[str] = set()
    seen: set[type] = set()

    def walk(owner: object) -> None:
        for value in vars(owner).values():
            if inspect.isclass(value) and value not in seen and value.__module__.startswith("domain"):
                seen.add(value)
                if issubclass(value, DomainEvent):
                    names.add(value.__name__)
                walk(value)

    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        walk(importlib.import_module(module.name))
    return names


@pytest.mark.parametrize("projection", PROJECTIONS, ids=lambda p: p.name)
def test_every_handler_of_a_projection_names_an_event_of_the_domain(projection):
    handlers = {name for name in dir(projection) if name.startswith("on_")}
    misnamed = {h for h in handlers if h.removeprefix("on_") not in domain_event_names()}

    assert handlers, f"{projection.name} handles no event"
    assert misnamed == set()
    assert projection.handles == {h.removeprefix("on_") for h in handlers}


def test_a_misspelt_handler_is_caught():
    class Misspelt(Projection):
        name = "misspelt"

        def on_PlacementStared(self, b: Batch, e: Event) -> None: ...

    assert "PlacementStared" in Misspelt.handles
    assert "PlacementStared" not in domain_event_names()


def test_a_handler_list_kept_by_hand_is_refused():
    with pytest.raises(TypeError, match="derived from the on_<EventName> methods"):
        class HandKept(Projection):
            name = "hand_kept"
            handles = frozenset({"PlacementStarted"})


class StartsCounted(Projection):
    """A projection written for this test only: one method, nothing else declared."""

    name = "test_starts_counted"
    tables = (Table("t_starts_counted", ("placement_id",), {"placement_id": "uuid", "starts_on": "date"}),)

    def on_PlacementStarted(self, b: Batch, e: Event) -> None:
        b.put("t_starts_counted", {"placement_id": e.originator_id, "starts_on": e.data["starts_on"]})


def test_an_event_a_projection_has_a_method_for_is_projected(books):
    employer = books.employer()
    placement = books.placement(books.candidate(), employer, None, starts_on=date(2026, 2, 2))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=24, effective_on=date(2026, 3, 2)))
    database = books.system.stores.database(books.tenant.database)
    migrate(database, [StartsCounted()])

    result = ProjectionRunner(database, StartsCounted()).catch_up(books.tenant, wait=True)

    with database.connection() as conn:
        rows = conn.execute("SELECT placement_id, starts_on FROM rm.t_starts_counted WHERE tenant_id = %s",
                            (books.tenant.id,)).fetchall()
    assert [(r["placement_id"], r["starts_on"]) for r in rows] == [(placement, date(2026, 2, 2))]
    assert result.position == books.head()  # the hours change was read past, not refused

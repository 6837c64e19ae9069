"""LedgerAggregate makes aggregates and events without the library's
per-call work (domain/base.py): what it makes must be what the library
makes. Each case is run twice, with the same ids and clock: once this way,
once with the library's own `_create` and `trigger_event`; the events
(class, fields, their order: the stored bytes follow it) and the
aggregates must be equal."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import eventsourcing.domain as library
import pytest
from eventsourcing.domain import Aggregate

from domain import base
from domain.contribution import Contribution
from domain.duties import PlacementDuties, judge_schemes
from domain.support import PlacementSupport
from domain.valuation import BlockValue
from tests.domain import builders
from tests.domain.builders import (
    a_candidate,
    a_contract,
    a_placement,
    a_vacancy,
    an_employer,
)


def _valued_contribution() -> Contribution:
    contribution = Contribution.for_placement(uuid.uuid4(), uuid.uuid4(), reported_on=date(2026, 2, 1))
    contribution.record_valuation(BlockValue(block_eur=Decimal(25000), bonus_eur=Decimal(0), eligible=True,
                                             reason="doelgroepregister", capped=False),
                                  rule_set="utrecht-2024", judged_on=date(2025, 11, 1), candidate_id=uuid.uuid4())
    return contribution


def _busy_placement() -> Any:
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.give_feedback(4, "coach", "Goede start", given_on=date(2025, 3, 1))
    placement.change_hours(Decimal(28), date(2025, 4, 1))
    return placement


CASES: dict[str, Callable[[], Any]] = {
    "candidate": a_candidate,
    "employer": an_employer,
    "contract": a_contract,
    "vacancy": a_vacancy,
    "placement, then feedback and hours": _busy_placement,
    "support": lambda: PlacementSupport.open(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "een rustige werkplek",
                                             opened_on=date(2026, 2, 1)),
    "duties (an id of its own, sealed schemes)": lambda: PlacementDuties.open(
        uuid.uuid4(), uuid.uuid4(), judge_schemes("doelgroepregister", date(1990, 5, 1), date(2026, 2, 1)),
        judged_on=date(2026, 2, 1)),
    "contribution, valued": _valued_contribution,
}


def _made(make: Callable[[], Any], monkeypatch: pytest.MonkeyPatch, *, the_library_s: bool) -> Any:
    ids = (uuid.UUID(int=i) for i in itertools.count(1))
    moments = (datetime(2026, 1, 1, tzinfo=UTC).replace(microsecond=i) for i in itertools.count())
    with monkeypatch.context() as m:
        m.setattr(uuid, "uuid4", lambda: next(ids))
        m.setattr(library, "uuid4", lambda: next(ids))
        m.setattr(builders, "uuid4", lambda: next(ids))
        m.setattr(base, "new_id", lambda: next(ids))
        m.setattr(library, "datetime_now_with_tzinfo", lambda: next(moments))
        if the_library_s:
            m.setattr(base._LedgerMeta, "__call__", type(Aggregate).__call__)
            m.setattr(base.LedgerAggregate, "_create", classmethod(Aggregate._create.__func__))
            m.setattr(base.LedgerAggregate, "trigger_event", Aggregate.trigger_event)
        return make()


def _shape(aggregate: Any) -> tuple[Any, ...]:
    events = [(type(e), list(vars(e).items())) for e in aggregate.pending_events]
    state = {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
    return type(aggregate), state, events


@pytest.mark.parametrize("case", list(CASES))
def test_an_aggregate_and_its_events_are_what_the_library_makes(case, monkeypatch):
    ours = _made(CASES[case], monkeypatch, the_library_s=False)
    libraries = _made(CASES[case], monkeypatch, the_library_s=True)
    assert ours.pending_events, "the case makes events"
    assert _shape(ours) == _shape(libraries)
    # And the events are whole: the library rebuilds the same aggregate from them.
    rebuilt = None
    for e in ours.pending_events:
        rebuilt = e.mutate(rebuilt)
    assert _shape(rebuilt)[1] == _shape(ours)[1]


def test_wrong_arguments_are_refused_as_the_library_refuses_them():
    placement = a_placement()
    cls = type(placement)
    given = {k: v for k, v in vars(placement.pending_events[0]).items()
             if k not in ("originator_id", "originator_version", "timestamp", "originator_topic")}
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'colour'"):
        cls(**given, colour="red")
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'starts_on'"):
        cls(**{k: v for k, v in given.items() if k != "starts_on"})
    with pytest.raises(TypeError, match="takes 12 positional arguments but 13 were given"):
        cls(*given.values(), None)
    assert cls(**given).pending_events[0].arrangement == given["arrangement"]
    with pytest.raises(TypeError, match="Unable to construct '.*PlacementStarted' event"):
        type(placement)._create(type(placement).PlacementStarted, candidate_id=uuid.uuid4())
    with pytest.raises(TypeError, match="Given id was not a UUID or str"):
        type(placement)._create(type(placement).PlacementStarted, id=42)
    with pytest.raises(TypeError, match="Can't construct event"):
        placement.trigger_event(type(placement).HoursChanged, no_such_field=1)
    # Nothing was half-made: the placement still has only its own events.
    assert [type(e).__name__ for e in placement.pending_events] == ["PlacementStarted"]



@pytest.mark.parametrize("case", list(CASES))
def test_an_aggregate_replayed_from_its_events_is_what_the_library_makes(case, monkeypatch):
    events = _made(CASES[case], monkeypatch, the_library_s=False).pending_events
    libraries = None
    for e in events:
        libraries = e.mutate(libraries)
    assert _shape(base.replayed(events))[1] == _shape(libraries)[1]


def test_an_older_created_event_without_a_later_field_replays_with_its_default():
    """Events stored before a field existed lack it: the aggregate's
    `__init__` default applies, as the library's mutate gives it."""
    started = a_placement().pending_events[0]
    older = object.__new__(type(started))
    object.__setattr__(older, "__dict__", {k: v for k, v in vars(started).items()
                                           if k not in ("arrangement", "employment_id")})
    ours, libraries = base.replayed([older]), older.mutate(None)
    assert ours.arrangement == libraries.arrangement == "employment"
    assert ours.employment_id is None
    assert _shape(ours)[1] == _shape(libraries)[1]

"""Every aggregate rebuilds to the same state from its events, in memory and
after a round trip through the library's JSON transcoder (the stored form)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.persistence import Mapper

from infra.eventstore import make_transcoder

from tests.domain.builders import (
    a_candidate,
    a_contract,
    a_placement,
    a_vacancy,
    an_employer,
)


def employer_story():
    employer = an_employer()
    employer.add_contact_person("Piet", "piet@devries.nl", phone="06 1234 5678")
    employer.add_contact_person("Anna", "anna@devries.nl", role="jobcoach")
    return employer


def contract_story():
    contract = a_contract()
    contract.amend(ends_on=date(2028, 6, 30), contract_value_eur=Decimal("1200000.50"))
    contract.close(date(2028, 6, 30), reason="looptijd voorbij")
    return contract


def candidate_story():
    candidate = a_candidate(status_holder=True, qualifies_via="Wajong")
    candidate.update_competences(["Lassen", "Heftruck"])
    candidate.state_support_needs("Instructies in beeld")
    return candidate


def vacancy_story():
    vacancy = a_vacancy()
    vacancy.edit(required_competences=["Plannen"], hours_per_week=Decimal("25.5"))
    vacancy.match_candidate(uuid4())
    vacancy.fill(uuid4())
    return vacancy


def placement_story():
    placement = a_placement(starts_on=date(2025, 2, 1))
    placement.change_hours(Decimal("32"), effective_on=date(2025, 5, 1))
    placement.give_feedback(4, "coach", "Gaat goed", given_on=date(2025, 6, 1))
    placement.extend(date(2026, 6, 30))
    placement.end(date(2026, 1, 31), "direct_employment")
    return placement


STORIES = [
    employer_story,
    contract_story,
    candidate_story,
    vacancy_story,
    placement_story,
]


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def rebuild(events):
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


@pytest.mark.parametrize("story", STORIES)
def test_an_aggregate_rebuilt_from_its_events_has_the_same_state(story):
    original = story()
    events = original.collect_events()
    assert len(events) >= 3
    assert state(rebuild(events)) == state(original)


@pytest.mark.parametrize("story", STORIES)
def test_events_survive_the_json_transcoder_and_still_replay(story):
    # The application's own transcoder: what is stored is what replays.
    mapper = Mapper(transcoder=make_transcoder())
    original = story()
    stored = [mapper.to_stored_event(e) for e in original.collect_events()]
    rebuilt = rebuild([mapper.to_domain_event(s) for s in stored])
    assert state(rebuilt) == state(original)


def test_replay_does_not_revalidate_so_old_events_always_apply():
    # A placement started at 50 hours stays replayable even if a later rule
    # tightened the range: the @event method only assigns.
    placement = a_placement(hours_per_week=Decimal("50"))
    (started,) = placement.collect_events()
    object.__setattr__(started, "hours_per_week", Decimal("70"))
    assert rebuild([started]).hours_per_week == Decimal("70")

"""A batch's events made into stored events at once (MetadataMapper.
to_stored_events, what a spreadsheet import's batch saves) are what
`to_stored_event` makes of each: the same ids, versions, topics, and states
that read back the same (sealed ones with their own nonces)."""
from __future__ import annotations

from eventsourcing.persistence import StoredEvent

from infra.eventstore import event_metadata
from tests.domain.builders import a_candidate, a_contract, an_employer


def test_a_batch_of_events_is_stored_as_each_would_be(system, tenant):
    mapper = system.stores.for_tenant(tenant).metadata_mapper
    assert mapper.personal is not None
    candidate, contract, employer = a_candidate(), a_contract(), an_employer()
    contract.set_targets(placements=3, retention_12m_percent=None)
    events = [*candidate.collect_events(), *contract.collect_events(), *employer.collect_events()]
    assert any(getattr(type(e), "class_version", 1) > 1 for e in events)
    meta = {"user_id": "u", "role": "agency", "organisation": "o", "correlation_id": "c",
            "recorded_at": "2026-12-05T06:00:00+00:00"}
    token = event_metadata.set(meta)
    try:
        each = [mapper.to_stored_event(e) for e in events]
        batch = mapper.to_stored_events(events)
    finally:
        event_metadata.reset(token)
    assert len(batch) == len(each) == len(events)
    for one, made, event in zip(each, batch, events):
        assert type(made) is StoredEvent
        assert (made.originator_id, made.originator_version, made.topic) == (
            one.originator_id, one.originator_version, one.topic)
        assert made == StoredEvent(made.originator_id, made.originator_version, made.topic, made.state)
        read, expected = mapper.to_domain_event(made), mapper.to_domain_event(one)
        assert read.__dict__ == expected.__dict__ and type(read) is type(event)
        assert mapper.decode_state(made.state, type(event).__name__) == mapper.decode_state(
            one.state, type(event).__name__)
        if type(event).__name__ == "CandidateRegistered":
            assert b"Sanne" not in made.state and made.state != one.state  # sealed, a nonce of its own
        else:
            assert made.state == one.state

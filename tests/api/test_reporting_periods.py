"""A contract's own reporting period (year or quarter; absent: its rule set's)
over HTTP: chosen at registration and by amendment (an event in its history),
followed when a statement is prepared, refused where a statement already
prepared would no longer be one of its periods. Worked periods for a term
2025-01-01..2027-12-31 under utrecht-2024 (which reports per year)."""
from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from eventsourcing.persistence import StoredEvent

from domain.contract import SocialReturnContract
from service.actor import Actor
from tests.api.conftest import Org, contract_body


def field_of(r: Any) -> str:
    return r.json()["errors"][0]["field"]


def _contract(org: Org, **overrides: Any) -> str:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    return org.create("/contracts", contract_body(employer, **overrides))


def _prepare(org: Org, contract: str, start: str, end: str) -> Any:
    return org.post(f"/contracts/{contract}/statements", {"period_start": start, "period_end": end})


def _agency_actor() -> Actor:
    return Actor(user_id=uuid.uuid4(), role="agency", organisation="test")


def _history(org: Org, contract: str) -> list[dict[str, Any]]:
    return org.system.ledger.history(org.tenant, _agency_actor(), SocialReturnContract, uuid.UUID(contract))


def test_a_quarterly_contract_prepares_its_quarters_and_refuses_a_year(org: Org) -> None:
    contract = _contract(org, reporting_period="quarter")
    read = org.get(f"/contracts/{contract}").json()
    assert (read["reporting_period"], read["reports_per"]) == ("quarter", "quarter")
    listed = org.get(f"/contracts/{contract}/statements").json()
    assert listed["reporting_period"] == "quarter" and listed["reporting_period_chosen"] == "quarter"
    assert len(listed["open_periods"]) == 12  # three years of four quarters
    assert listed["open_periods"][:2] == [{"period_start": "2025-01-01", "period_end": "2025-03-31"},
                                          {"period_start": "2025-04-01", "period_end": "2025-06-30"}]

    q1 = _prepare(org, contract, "2026-01-01", "2026-03-31")
    assert q1.status_code == 201, q1.text
    assert (q1.json()["period_start"], q1.json()["period_end"]) == ("2026-01-01", "2026-03-31")
    year = _prepare(org, contract, "2027-01-01", "2027-12-31")
    assert year.status_code == 422 and field_of(year) == "period_end", year.text
    assert "per quarter" in year.json()["errors"][0]["message"] and "2027-03-31" in year.text
    crooked = _prepare(org, contract, "2026-05-01", "2026-06-30")
    assert crooked.status_code == 422 and field_of(crooked) == "period_start", crooked.text
    assert {"period_start": "2026-01-01", "period_end": "2026-03-31"} not in \
        org.get(f"/contracts/{contract}/statements").json()["open_periods"]


def test_a_yearly_contract_by_its_rule_set_refuses_a_quarter(org: Org) -> None:
    contract = _contract(org)  # utrecht-2024 reports per year; the contract chooses nothing
    read = org.get(f"/contracts/{contract}").json()
    assert (read["reporting_period"], read["reports_per"]) == (None, "year")
    before = org.event_count()
    quarter = _prepare(org, contract, "2026-01-01", "2026-03-31")
    assert quarter.status_code == 422 and field_of(quarter) == "period_end", quarter.text
    assert "per year" in quarter.json()["errors"][0]["message"] and "2026-12-31" in quarter.text
    assert org.event_count() == before  # nothing stored
    assert _prepare(org, contract, "2026-01-01", "2026-12-31").status_code == 201


def test_the_term_cuts_the_first_and_last_quarter(org: Org) -> None:
    contract = _contract(org, reporting_period="quarter", starts_on="2025-02-15", ends_on="2025-08-10")
    assert org.get(f"/contracts/{contract}/statements").json()["open_periods"] == [
        {"period_start": "2025-02-15", "period_end": "2025-03-31"},
        {"period_start": "2025-04-01", "period_end": "2025-06-30"},
        {"period_start": "2025-07-01", "period_end": "2025-08-10"}]
    final = _prepare(org, contract, "2025-07-01", "2025-08-10")
    assert final.status_code == 201 and final.json()["final"] is True


def test_a_bad_reporting_period_is_a_422_naming_it(org: Org) -> None:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    for value in ("month", 4, ""):
        r = org.post("/contracts", contract_body(employer, reporting_period=value))
        assert r.status_code == 422 and field_of(r) == "reporting_period", (value, r.text)
    contract = _contract(org)
    r = org.client.patch(f"/api/v1/contracts/{contract}", json={"reporting_period": "week"},
                         headers={"Authorization": f"Bearer {org.agency_token}"})
    assert r.status_code == 422 and field_of(r) == "reporting_period", r.text


def _amend(org: Org, contract: str, body: dict[str, Any]) -> Any:
    return org.client.patch(f"/api/v1/contracts/{contract}", json=body,
                            headers={"Authorization": f"Bearer {org.agency_token}"})


def test_changing_the_period_is_an_event_and_is_refused_once_a_statement_would_not_fit(org: Org) -> None:
    # No statement yet: the change is free, and it is in the contract's history.
    contract = _contract(org)
    r = _amend(org, contract, {"reporting_period": "quarter"})
    assert r.status_code == 200, r.text
    assert org.get(f"/contracts/{contract}").json()["reports_per"] == "quarter"
    amended = [e for e in _history(org, contract) if e["type"] == "ContractAmended"]
    assert [e["data"]["changes"] for e in amended] == [{"reporting_period": "quarter"}]

    # A quarter prepared: back to years would leave it no year of the contract.
    assert _prepare(org, contract, "2025-04-01", "2025-06-30").status_code == 201
    before = org.event_count()
    r = _amend(org, contract, {"reporting_period": "year", "title": "Nieuw"})
    assert r.status_code == 422 and field_of(r) == "reporting_period", r.text
    assert "2025-04-01" in r.json()["errors"][0]["message"]
    assert org.event_count() == before and org.get(f"/contracts/{contract}").json()["title"] != "Nieuw"

    # A year prepared under the rule set's years: quarters would not fit it either.
    yearly = _contract(org)
    assert _prepare(org, yearly, "2025-01-01", "2025-12-31").status_code == 201
    r = _amend(org, yearly, {"reporting_period": "quarter"})
    assert r.status_code == 422 and field_of(r) == "reporting_period", r.text
    # Choosing what it already follows fits every statement it has.
    assert _amend(org, yearly, {"reporting_period": "year"}).status_code == 200
    assert org.get(f"/contracts/{yearly}").json()["reporting_period"] == "year"


def test_a_contract_registered_before_the_choice_existed_replays_with_its_rule_sets_period(org: Org) -> None:
    """An old ContractRegistered (no `reporting_period` in its stored state)
    loads as "the rule set's" and its statements follow the rule set."""
    template = _contract(org)
    app = org.system.stores.for_tenant(org.tenant)
    registered = next(s for s in app.tenant_recorder.select_events(uuid.UUID(template))
                      if s.topic.endswith("ContractRegistered"))
    mapper = app.metadata_mapper
    state = mapper.decode_state(registered.state, "ContractRegistered")
    assert state.pop("reporting_period") is None  # what a new one stores
    old = uuid.uuid4()
    app.tenant_recorder.insert_events([StoredEvent(originator_id=old, originator_version=1, topic=registered.topic,
                                                   state=mapper.transcoder.encode(state))])
    loaded = org.system.ledger.get(org.tenant, _agency_actor(), SocialReturnContract, old)
    assert loaded.reporting_period is None and loaded.reports_per == "year"
    assert loaded.starts_on == date(2025, 1, 1)
    assert org.get(f"/contracts/{old}").json()["reporting_period"] is None
    assert _prepare(org, str(old), "2025-01-01", "2025-03-31").status_code == 422
    assert _prepare(org, str(old), "2025-01-01", "2025-12-31").status_code == 201
    assert _amend(org, str(old), {"reporting_period": "quarter"}).status_code == 422

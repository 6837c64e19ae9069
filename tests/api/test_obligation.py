"""The obligation's terms and turnover reports over HTTP, and the figures that
show how the obligation is reached (docs/valuation.md, "Obligation")."""
from __future__ import annotations

import uuid
from datetime import date

from eventsourcing.persistence import StoredEvent

from domain.contract import OBLIGATION_DEFAULTS, SocialReturnContract
from service.actor import Actor
from tests.api.conftest import Org, contract_body
from tests.projections.conftest import catch_up


def _contract(org: Org, **overrides: object) -> str:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    return org.create("/contracts", contract_body(employer, **overrides))


def _turnover(org: Org, contract: str, start: str, end: str, amount: str):
    return org.post(f"/contracts/{contract}/turnover", {"period_start": start, "period_end": end, "amount_eur": amount})


def test_a_capped_contract_shows_how_its_obligation_is_reached(org: Org) -> None:
    contract = _contract(org, contract_value_eur="20000000.00", obligation_percent="2",
                         obligation_cap_eur="300000.00", bid_percent="2.5")
    read = org.get(f"/contracts/{contract}").json()
    # bid 2.5% of 20,000,000 = 500,000, capped at 300,000 (utrecht-2024 v1: no PSO discounts)
    assert read["obligation"]["before_cap_eur"] == "500000.00" and read["obligation"]["percent_from"] == "bid"
    assert read["obligation"]["obligation_eur"] == "300000.00"
    catch_up(org.system, org.tenant)
    figures = org.get(f"/contracts/{contract}/compliance?as_of=2025-06-30").json()
    assert figures["obligation_eur"] == "300000.00" and figures["obligation"]["cap_applied"] is True


def test_turnover_in_two_periods_and_a_visible_correction(org: Org) -> None:
    contract = _contract(org, obligation_basis="invoiced_turnover")
    assert _turnover(org, contract, "2025-01-01", "2025-12-31", "400000.00").status_code == 200
    assert _turnover(org, contract, "2026-01-01", "2026-12-31", "250000.00").status_code == 200
    r = _turnover(org, contract, "2025-01-01", "2025-12-31", "450000.00")  # a correction
    assert r.status_code == 200, r.text
    reports = org.get(f"/contracts/{contract}").json()["turnover_reports"]
    assert [(t["amount_eur"], t["corrects_eur"], t["replaced"]) for t in reports] == [
        ("400000.00", None, True), ("250000.00", None, False), ("450000.00", "400000.00", False)]
    # 5% of (450,000 + 250,000) = 35,000
    catch_up(org.system, org.tenant)
    figures = org.get(f"/contracts/{contract}/compliance?as_of=2026-06-30").json()
    assert figures["obligation_eur"] == "35000.00"
    overlapping = _turnover(org, contract, "2025-07-01", "2026-06-30", "1.00")
    assert overlapping.status_code == 422 and overlapping.json()["errors"][0]["field"] == "period_start"


def test_a_contract_registered_before_the_obligation_terms_replays_unchanged(org: Org) -> None:
    """An old ContractRegistered (none of the obligation fields) loads as the
    contract value basis, no cap, no PSO: 5% of 1,000,000 = 50,000 as before."""
    template = _contract(org)
    app = org.system.stores.for_tenant(org.tenant)
    registered = next(s for s in app.tenant_recorder.select_events(uuid.UUID(template))
                      if s.topic.endswith("ContractRegistered"))
    mapper = app.metadata_mapper
    state = mapper.decode_state(registered.state, "ContractRegistered")
    for name in OBLIGATION_DEFAULTS:
        state.pop(name)
    old = uuid.uuid4()
    app.tenant_recorder.insert_events([StoredEvent(originator_id=old, originator_version=1, topic=registered.topic,
                                                   state=mapper.transcoder.encode(state))])
    who = Actor(user_id=uuid.uuid4(), role="agency", organisation="test")
    loaded = org.system.ledger.get(org.tenant, who, SocialReturnContract, old)
    assert {k: getattr(loaded, k) for k in OBLIGATION_DEFAULTS} == OBLIGATION_DEFAULTS
    assert loaded.starts_on == date(2025, 1, 1)
    read = org.get(f"/contracts/{old}").json()
    assert read["obligation_eur"] == "50000.00" and read["obligation"]["basis"] == "contract_value"
    catch_up(org.system, org.tenant)
    figures = org.get(f"/contracts/{old}/compliance?as_of=2025-06-30").json()
    assert figures["obligation_eur"] == "50000.00"

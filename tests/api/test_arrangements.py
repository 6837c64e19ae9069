"""A placement's arrangement over HTTP: set at its start, read back, valued by
the contract's rule set and explained (docs/valuation.md, "Arrangements").

Harlingen version 2 (domain/rulesets/harlingen-2024.v2.json): work-experience
place 7,500 a year, trial placement null; participatiewet over 2 years on
benefit 40,000. Basis 36 hours, 365 days; term 2025-01-01..2027-12-31,
awarded 2024-11-15.
"""
from __future__ import annotations

import uuid

from eventsourcing.persistence import StoredEvent

from projections.base import RM
from tests.api.conftest import Org, candidate_body, contract_body, placement_body
from tests.projections.conftest import catch_up


def _harlingen(org: Org, version: int) -> tuple[str, str, str]:
    employer = org.create("/employers", {"name": "Bouwbedrijf De Vries"})
    contract = org.create("/contracts", contract_body(employer, contracting_authority="Gemeente Harlingen",
                                                      rule_set="harlingen-2024", rule_set_version=version))
    candidate = org.create("/candidates", candidate_body(target_group="participatiewet",
                                                         benefit_since="2020-01-01"))
    return employer, contract, candidate


def test_arrangements_are_set_read_valued_and_explained(org: Org) -> None:
    employer, contract, candidate = _harlingen(org, 2)
    body = placement_body(candidate, employer, contract, starts_on="2025-01-01", planned_end_on="2025-07-01")
    place = org.create("/placements", {**body, "arrangement": "work_experience"})
    trial = org.create("/placements", {**body, "arrangement": "trial"})
    job = org.create("/placements", body)  # no arrangement given: employment

    assert org.get(f"/placements/{place}").json()["arrangement"] == "work_experience"
    assert org.get(f"/placements/{trial}").json()["arrangement"] == "trial"
    assert org.get(f"/placements/{job}").json()["arrangement"] == "employment"

    catch_up(org.system, org.tenant)
    r = org.get(f"/contracts/{contract}/contributions?as_of=2025-07-01")
    assert r.status_code == 200, r.text
    lines = {line["placement_id"]: line for line in r.json()["contributions"]}
    # 2025-01-01..2025-07-01 = 182 days at 24 of 36 hours.
    # Work-experience place: 7,500 x 24/36 x 182/365 = 182,000/73 = 2,493.1506... -> 2,493.15
    assert lines[place]["value_eur"] == "2493.15"
    x = lines[place]["explanation"]
    assert (x["arrangement"], x["block"], x["bonuses"]) == ("work_experience", {"eur_per_year": "7500"}, [])
    assert x["value_eur"] == "2493.150684931506"
    # Employment: participatiewet over 2 years on benefit, 40,000 x 24/36 x 182/365
    # = 14,560,000/1,095 = 13,296.8036... -> 13,296.80
    assert lines[job]["value_eur"] == "13296.80"
    assert lines[job]["explanation"]["arrangement"] == "employment"
    # A trial placement does not count in Harlingen: EUR 0, and why.
    assert lines[trial]["value_eur"] == "0.00"
    assert lines[trial]["explanation"]["zero_code"] == "arrangement_not_counted"
    assert lines[trial]["explanation"]["arrangement"] == "trial"
    # The contract's figures: 2,493.15... + 13,296.80... + 0, all pending.
    figures = org.get(f"/contracts/{contract}/compliance?as_of=2025-07-01").json()
    assert figures["pending_eur"] == "15789.95"  # 2,493.1506... + 13,296.8036... = 15,789.9543...


def test_a_v1_contract_counts_a_work_experience_place_as_0(org: Org) -> None:
    # A contract pinned to harlingen-2024 v1 (no arrangements key).
    employer, contract, candidate = _harlingen(org, 1)
    place = org.create("/placements", {**placement_body(candidate, employer, contract, starts_on="2025-01-01"),
                                       "arrangement": "work_experience"})
    catch_up(org.system, org.tenant)
    line = next(k for k in org.get(f"/contracts/{contract}/contributions?as_of=2025-07-01").json()["contributions"]
                if k["placement_id"] == place)
    assert line["value_eur"] == "0.00"
    assert line["explanation"]["zero_code"] == "arrangement_not_counted"


def test_an_unknown_arrangement_is_refused_naming_the_field(org: Org) -> None:
    employer, contract, candidate = _harlingen(org, 2)
    r = org.post("/placements", {**placement_body(candidate, employer, contract), "arrangement": "volunteering"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "arrangement"


def test_a_placement_started_before_arrangements_existed_reads_as_employment(org: Org) -> None:
    employer, contract, candidate = _harlingen(org, 2)
    template = org.create("/placements", {**placement_body(candidate, employer, contract),
                                          "arrangement": "internship"})
    app = org.system.stores.for_tenant(org.tenant)
    started = next(s for s in app.tenant_recorder.select_events(uuid.UUID(template))
                   if s.topic.endswith("PlacementStarted"))
    mapper = app.metadata_mapper
    state = mapper.decode_state(started.state, "PlacementStarted")
    assert state.pop("arrangement") == "internship"
    old = uuid.uuid4()
    app.tenant_recorder.insert_events([StoredEvent(originator_id=old, originator_version=1, topic=started.topic,
                                                   state=mapper.transcoder.encode(state))])

    assert org.get(f"/placements/{old}").json()["arrangement"] == "employment"
    catch_up(org.system, org.tenant)
    with org.system.stores.database(org.tenant.database).connection() as conn:
        rows = conn.execute(f"SELECT DISTINCT arrangement FROM {RM}.c_placements "
                            "WHERE tenant_id = %s AND placement_id = %s", (org.tenant.id, old)).fetchall()
    assert [r["arrangement"] for r in rows] == ["employment"]

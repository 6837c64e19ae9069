"""GET /contracts/{id}/contributions says why each line is worth what it is."""
from __future__ import annotations

from decimal import Decimal

from tests.api.conftest import Org, candidate_body, placement_body
from tests.projections.conftest import catch_up


def test_the_authority_reads_each_lines_explanation_and_never_the_persons_group(org: Org):
    ids = org.seed()  # Utrecht doelgroepregister (50,000, uncapped), 24 h from 2025-02-01
    # A second placement, starting after the contract's term (2025-01-01..2027-12-31).
    other = org.create("/candidates", candidate_body(full_name="Kees Bakker", target_group="participatiewet"))
    org.create("/placements", placement_body(other, ids["employer"], ids["contract"],
                                             starts_on="2028-01-01", planned_end_on=None))
    r = org.post(f"/contracts/{ids['contract']}/contributions", {
        "kind": "other_activity", "description": "Sollicitatietrainingen", "activity_date": "2026-04-01",
        "hours": "16"})
    assert r.status_code == 201, r.text
    catch_up(org.system, org.tenant)
    authority = org.token_for("authority", organisation="Gemeente Utrecht")

    r = org.get(f"/contracts/{ids['contract']}/contributions?as_of=2025-12-31", authority)

    assert r.status_code == 200, r.text
    lines = {line["placement_id"] or line["kind"]: line for line in r.json()["contributions"]}
    placed = lines[ids["placement"]]
    x = placed["explanation"]
    # 50,000 x 24/36 x 334/365 = 30,502.28...
    assert placed["value_eur"] == "30502.28"
    assert Decimal(x["value_eur"]).quantize(Decimal("0.01")) == Decimal("30502.28")
    assert x["block"] == {"eur_per_year": "50000"} and x["zero_code"] is None
    assert x["segments"] == [{"from": "2025-02-01", "to": "2025-12-31", "days": 334, "hours_per_week": "24",
                              "counted_hours": "24", "value_eur": x["value_eur"]}]
    assert x["cap"] == {"applies": False}
    assert x["eligibility"]["judged_on"] == "2024-11-15"
    assert "doelgroepregister" not in r.text  # the person's target group is theirs, not the authority's
    # Not started by the day asked: a EUR 0 line that says why.
    later = next(line for line in lines.values() if line["kind"] == "placement" and line is not placed)
    assert later["value_eur"] == "0.00"
    assert later["explanation"]["zero_code"] == "not_active_in_period"
    activity = lines["other_activity"]["explanation"]
    assert (activity["hours"], activity["hourly_rate_eur"], activity["value_eur"]) == ("16", "100", "1600")

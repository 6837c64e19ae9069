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
                              "counted_hours": "24", "value_eur": x["value_eur"], "days_per_year": 365}]
    assert x["cap"] == {"applies": False}
    assert x["eligibility"]["judged_on"] == "2024-11-15"
    assert "doelgroepregister" not in r.text  # the person's target group is theirs, not the authority's
    # Not started by the day asked: a EUR 0 line that says why.
    later = next(line for line in lines.values() if line["kind"] == "placement" and line is not placed)
    assert later["value_eur"] == "0.00"
    assert later["explanation"]["zero_code"] == "not_active_in_period"
    activity = lines["other_activity"]["explanation"]
    assert (activity["hours"], activity["hourly_rate_eur"], activity["value_eur"]) == ("16", "100", "1600")


def test_one_lines_explanation_over_a_period_for_those_who_see_its_contract(org: Org, new_org):
    ids = org.seed()
    catch_up(org.system, org.tenant)
    line = next(k for k in org.get(f"/contracts/{ids['contract']}/contributions").json()["contributions"]
                if k["placement_id"] == ids["placement"])
    authority = org.token_for("authority", organisation="Gemeente Utrecht")

    r = org.get(f"/contributions/{line['id']}/explanation?period_start=2025-02-01&period_end=2025-03-31",
                authority)

    assert r.status_code == 200, r.text
    x = r.json()["explanation"]
    # 59 days at 24 of 36 hours of 50,000 a year: 50,000 x 2/3 x 59/365 = 5,388.12...
    assert x["period"] == {"from": "2025-02-01", "to": "2025-03-31"}
    assert x["days"]["counted"] == 59
    assert Decimal(x["value_eur"]).quantize(Decimal("0.01")) == Decimal("5388.13")
    inverted = org.get(f"/contributions/{line['id']}/explanation?period_start=2025-04-01&period_end=2025-03-31")
    assert inverted.status_code == 422
    assert inverted.json()["errors"][0]["field"] == "period_end"
    elsewhere = org.get(f"/contributions/{line['id']}/explanation",
                        org.token_for("authority", organisation="Gemeente Harlingen"))
    assert elsewhere.status_code == 404
    assert new_org().get(f"/contributions/{line['id']}/explanation").status_code == 404

"""Explanations read from the compliance read model: they agree with the values
listed, name the rule of a EUR 0 line, and a rebuild gives the same ones."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.contribution import Contribution
from projections.compliance import contributions_for_contract, explanation_for_contribution
from service import commands as c
from tests.projections.conftest import Books, catch_up, runner, snapshot

pytestmark = pytest.mark.timeout(60)

AS_OF = date(2026, 12, 31)


def _contract(books: Books):
    employer = books.employer()
    contract = books.contract(employer, rule_set="harlingen-2024", contracting_authority="Gemeente Harlingen")
    # Harlingen: wia_wao 35,000, minimum 12 hours, cap 730 days; no block for vso_pro_mbo1.
    valued = books.placement(books.candidate(target_group="wia_wao"), employer, contract,
                             starts_on=date(2025, 1, 1), hours_per_week=Decimal("18"), planned_end_on=None,
                             permanent_contract=True)
    books.run(c.ChangeHours(placement_id=valued, hours_per_week=Decimal("36"), effective_on=date(2026, 1, 1)))
    not_eligible = books.placement(books.candidate(full_name="Anouk Smit", target_group="vso_pro_mbo1"),
                                   employer, contract, starts_on=date(2025, 3, 1))
    too_few = books.placement(books.candidate(full_name="Kees Bakker", target_group="wia_wao"),
                              employer, contract, starts_on=date(2025, 3, 1), hours_per_week=Decimal("8"))
    purchase = books.new(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Koffie met Impact", invoice_amount_eur_excl_vat=Decimal("1000.00"),
        register="social_enterprise_nl_member", invoice_date=date(2026, 3, 2), description="Catering"))
    activity = books.new(c.ReportOtherActivity(contract_id=contract, description="Sollicitatietrainingen",
                                               activity_date=date(2026, 4, 1), hours=Decimal("16")))
    return contract, {"valued": Contribution.id_for_placement(valued),
                      "not_eligible": Contribution.id_for_placement(not_eligible),
                      "too_few": Contribution.id_for_placement(too_few),
                      "purchase": purchase, "activity": activity}


async def test_each_listed_line_carries_its_explanation_and_a_zero_line_its_rule(pool, books):
    contract, ids = _contract(books)
    catch_up(books.system, books.tenant)
    rows = {r["id"]: r for r in await contributions_for_contract(pool, books.tenant.id, contract, AS_OF)}

    valued = rows[str(ids["valued"])]
    x = valued["explanation"]
    # 2025 at 18 h: 35,000 x 18/36 = 17,500; 2026 at 36 h: 35,000 (no bonus in Harlingen).
    assert valued["value_eur"] == "52500.00"
    assert Decimal(x["value_eur"]).quantize(Decimal("0.01")) == Decimal("52500.00")
    assert x["zero_code"] is None
    assert x["block"] == {"eur_per_year": "35000"} and x["bonuses"] == []
    assert [(s["from"], s["to"], s["days"], s["counted_hours"]) for s in x["segments"]] == [
        ("2025-01-01", "2025-12-31", 365, "18"), ("2026-01-01", "2026-12-31", 365, "36")]
    assert x["eligibility"] == {"valued": True, "eligible": True, "judged_on": "2024-11-15"}
    assert x["cap"] == {"applies": True, "cap_days": 730, "window_ends_on": "2026-12-31",
                        "days_used": 730, "days_remaining": 0}
    assert x["rule_set"] == {"name": "harlingen-2024", "version": 1}

    assert rows[str(ids["not_eligible"])]["value_eur"] == "0.00"
    assert rows[str(ids["not_eligible"])]["explanation"]["zero_code"] == "not_eligible"
    assert rows[str(ids["too_few"])]["explanation"]["zero_code"] == "below_minimum_hours"
    assert rows[str(ids["too_few"])]["explanation"]["hours"]["minimum_hours_per_week"] == "12"
    assert rows[str(ids["purchase"])]["explanation"] == {
        "kind": "social_enterprise_purchase", "value_eur": "500.000", "zero_code": None,
        "rule_set": {"name": "harlingen-2024"}, "invoice_amount_eur_excl_vat": "1000.00",
        "register": "social_enterprise_nl_member", "counted_share": "0.5"}
    assert rows[str(ids["activity"])]["explanation"]["hourly_rate_eur"] == "100"

    # The one query for a line of a period (what a statement freezes).
    one = await explanation_for_contribution(pool, books.tenant.id, ids["valued"],
                                             period_start=date(2025, 1, 1), period_end=date(2025, 12, 31))
    assert one is not None and Decimal(one["value_eur"]) == 17500
    assert one["days"]["counted"] == 365 and one["cap"]["days_remaining"] == 365
    before = await explanation_for_contribution(pool, books.tenant.id, ids["valued"],
                                                period_start=date(2024, 1, 1), period_end=date(2024, 12, 31))
    assert before is not None and before["zero_code"] == "not_active_in_period"
    assert await explanation_for_contribution(pool, books.tenant.id, ids["purchase"], period_end=AS_OF) == \
        rows[str(ids["purchase"])]["explanation"]


async def test_a_rebuild_gives_the_same_rows_and_explanations_as_live(pool, books):
    contract, _ = _contract(books)
    catch_up(books.system, books.tenant)
    live_rows = snapshot(books.system, books.tenant)
    live = await contributions_for_contract(pool, books.tenant.id, contract, AS_OF)
    assert any(r["explanation"]["zero_code"] for r in live)

    runner(books.system, books.tenant, "compliance").rebuild(books.tenant)

    assert snapshot(books.system, books.tenant) == live_rows
    assert await contributions_for_contract(pool, books.tenant.id, contract, AS_OF) == live


async def test_the_aggregates_explain_a_line_as_the_read_model_does(pool, books):
    from domain.contract import SocialReturnContract
    from domain.explanation import explain_contribution
    from domain.placement import Placement

    contract_id, ids = _contract(books)
    catch_up(books.system, books.tenant)
    ledger, tenant, who = books.system.ledger, books.tenant, books.who
    contract = ledger.get(tenant, who, SocialReturnContract, contract_id)
    for key in ("valued", "not_eligible", "too_few", "purchase", "activity"):
        contribution = ledger.get(tenant, who, Contribution, ids[key])
        placement = (ledger.get(tenant, who, Placement, contribution.placement_id)
                     if contribution.placement_id else None)
        for period in ((None, AS_OF), (date(2026, 1, 1), date(2026, 3, 31))):
            mine = explain_contribution(contribution, contract=contract, placement=placement,
                                        period_start=period[0], period_end=period[1]).as_dict()
            read = await explanation_for_contribution(pool, tenant.id, ids[key], period_start=period[0],
                                                      period_end=period[1])
            assert mine == read, key

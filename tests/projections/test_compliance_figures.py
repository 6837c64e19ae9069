"""Compliance figures worked out by hand, read back through the real projection
and the real asyncpg queries (and the HTTP API for roll-ups and decisions).

The rule (domain/valuation.py): value = (block + bonuses) x min(hours, 36)/36
x counted_days/365. Utrecht: participatiewet 40,000, doelgroepregister 50,000,
no minimum hours, a 730-day cap except for the doelgroepregister. Harlingen:
participatiewet 40,000 after 24 months on benefit, minimum 12 hours a week.
Example candidates are born in 1990 (no age bonus), not status holders, and
placements are not permanent contracts: no bonuses anywhere below.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from projections.reader import forget_figures

from domain.contribution import Contribution
from projections.compliance import compliance_for_contract, contributions_for_contract
from service import commands as c
from tests.projections.conftest import API, Books, bearer, catch_up, eur, token_for

pytestmark = pytest.mark.timeout(60)

# Contributions of a fixed amount are reported "today" (the command has no
# date); reading as of the end of 2026, or today if later, always includes them.
AS_OF = max(date(2026, 12, 31), date.today())
TERM_2026 = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "awarded_on": date(2025, 11, 15)}


async def figures(pool: Any, books: Books, contract: UUID, as_of: date = AS_OF) -> dict:
    catch_up(books.system, books.tenant)
    found = await compliance_for_contract(pool, books.tenant.id, contract, as_of)
    assert found is not None, "contract missing from the compliance read model"
    return found


def quarters(f: dict) -> dict[str, str]:
    return {q["quarter"]: q["reported_eur"] for q in f["quarters"]}


def accept(books: Books, contribution: UUID) -> None:
    books.run(c.AcceptContribution(contribution_id=contribution, reason="Akkoord",
                                   decided_on=date(2026, 11, 1)))


def reject(books: Books, contribution: UUID) -> None:
    books.run(c.RejectContribution(contribution_id=contribution, reason="Geen bewijs van uren",
                                   decided_on=date(2026, 11, 2)))


# -- placements ----------------------------------------------------------------------
async def test_a_full_time_participatiewet_year_reports_the_whole_block_against_a_50000_obligation(
        pool, books):
    employer = books.employer()
    contract = books.contract(employer)  # 1,000,000.00 at 5%, 2025-2027, utrecht-2024
    candidate = books.candidate(target_group="participatiewet")
    books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["obligation_eur"] == "50000.00"
    assert f["reported_eur"] == "40000.00"
    assert f["pending_eur"] == "40000.00"  # reported from the start, not decided on yet
    assert f["accepted_eur"] == "0.00"
    assert f["rejected_eur"] == "0.00"
    assert f["percent_accepted"] == "0.0"
    # Continuing as it is: two years to the end of the 730-day cap (2027-12-31).
    assert f["forecast_eur"] == "80000.00"
    assert f["status"] == "on_track"
    # 90, 91, 92 and 92 days of 40,000/365 a day.
    # Quarters are differences of rounded running totals, so they add up to the total:
    # 9863.01 (90 d), 19835.62 - 9863.01 = 9972.61, 29917.81 - 19835.62, 40000.00 - 29917.81.
    assert quarters(f) == {"2026-Q1": "9863.01", "2026-Q2": "9972.61",
                           "2026-Q3": "10082.19", "2026-Q4": "10082.19"}


async def test_eighteen_hours_a_week_count_for_half_the_block(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    candidate = books.candidate(target_group="participatiewet")
    books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["reported_eur"] == "20000.00"
    assert f["forecast_eur"] == "40000.00"
    assert f["status"] == "at_risk"  # 40,000 forecast < 50,000 owed


async def test_hours_above_the_36_hour_basis_count_as_full_time(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    candidate = books.candidate(target_group="participatiewet")
    books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("40"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["reported_eur"] == "40000.00"


async def test_an_hours_change_halfway_values_each_half_at_its_own_hours(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    candidate = books.candidate(target_group="participatiewet")
    placement = books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1),
                                hours_per_week=Decimal("36"))
    before = await figures(pool, books, contract, date(2026, 12, 31))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("18"),
                            effective_on=date(2026, 7, 1)))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert before["reported_eur"] == "40000.00"
    # 181 days x 40,000/365 + 184 days x 20,000/365 = 19,835.6164 + 10,082.1918
    assert f["reported_eur"] == "29917.81"
    # Running totals 9863.01, 19835.62, 24876.71 (+ 18 h x 92 d), 29917.81.
    assert quarters(f) == {"2026-Q1": "9863.01", "2026-Q2": "9972.61",
                           "2026-Q3": "5041.09", "2026-Q4": "5041.10"}
    # 2027 (capped at 2027-12-31) continues at 18 hours: + 20,000.
    assert f["forecast_eur"] == "49917.81"
    assert f["status"] == "at_risk"


async def test_an_ended_placement_counts_up_to_its_last_day_only(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    candidate = books.candidate(target_group="participatiewet")
    placement = books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1),
                                hours_per_week=Decimal("36"))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2026, 3, 31), reason="resigned"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["reported_eur"] == "9863.01"  # 90 days
    assert f["forecast_eur"] == "9863.01"  # nothing more to come
    assert quarters(f) == {"2026-Q1": "9863.01"}


async def test_as_of_bounds_the_period_counted(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    candidate = books.candidate(target_group="participatiewet")
    books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))

    half = await figures(pool, books, contract, date(2026, 6, 30))
    first_day = await figures(pool, books, contract, date(2026, 1, 1))
    before = await figures(pool, books, contract, date(2025, 12, 31))
    after_term = await figures(pool, books, contract, date(2030, 1, 1))

    assert half["reported_eur"] == "19835.62"  # 181 days
    assert quarters(half) == {"2026-Q1": "9863.01", "2026-Q2": "9972.61"}
    assert first_day["reported_eur"] == "109.59"  # one day: 40,000/365
    assert before["reported_eur"] == "0.00"
    assert before["quarters"] == []
    # Past the term and the cap: two whole years, no more.
    assert after_term["reported_eur"] == "80000.00"
    # The forecast does not depend on the day asked.
    assert {half["forecast_eur"], before["forecast_eur"], after_term["forecast_eur"]} == {"80000.00"}


async def test_the_730_day_cap_stops_a_participatiewet_placement_but_not_a_doelgroepregister_one(pool, books):
    employer = books.employer()
    contract = books.contract(employer)  # term 2025-01-01 .. 2027-12-31
    capped = books.candidate(full_name="Kees Bakker", target_group="participatiewet")
    uncapped = books.candidate(full_name="Fatima Yilmaz", target_group="doelgroepregister")
    books.placement(capped, employer, contract, starts_on=date(2025, 1, 1), hours_per_week=Decimal("36"))
    other_contract = books.contract(employer, title="Schoonmaak stadskantoor")
    books.placement(uncapped, employer, other_contract, starts_on=date(2025, 1, 1),
                    hours_per_week=Decimal("36"))

    capped_f = await figures(pool, books, contract, date(2027, 12, 31))
    uncapped_f = await figures(pool, books, other_contract, date(2027, 12, 31))

    assert capped_f["reported_eur"] == "80000.00"  # 2025 and 2026, then the cap
    assert capped_f["forecast_eur"] == "80000.00"
    assert "2027-Q1" not in quarters(capped_f)
    assert uncapped_f["reported_eur"] == "150000.00"  # three whole years of 50,000
    assert uncapped_f["accepted_eur"] == "0.00"


async def test_an_active_uncapped_placement_is_forecast_to_the_end_of_the_term(pool, books):
    employer = books.employer()
    contract = books.contract(employer)  # ends 2027-12-31
    candidate = books.candidate(target_group="doelgroepregister")
    books.placement(candidate, employer, contract, starts_on=date(2026, 7, 1), hours_per_week=Decimal("36"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    # 184 days in 2026, 549 days to the end of the term, of 50,000/365 a day.
    assert f["reported_eur"] == "25205.48"
    assert f["forecast_eur"] == "75205.48"
    assert f["status"] == "on_track"


async def test_a_placement_outside_the_contract_term_counts_only_inside_it(pool, books):
    employer = books.employer()
    contract = books.contract(employer, **TERM_2026)
    candidate = books.candidate(target_group="participatiewet")
    books.placement(candidate, employer, contract, starts_on=date(2025, 7, 1), hours_per_week=Decimal("36"))

    f = await figures(pool, books, contract, date(2027, 6, 30))

    assert f["reported_eur"] == "40000.00"  # 2026 only
    assert f["forecast_eur"] == "40000.00"
    assert set(quarters(f)) == {"2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"}


async def test_a_harlingen_candidate_below_twelve_hours_counts_nothing(pool, books):
    employer = books.employer()
    contract = books.contract(employer, rule_set="harlingen-2024", contracting_authority="Gemeente Harlingen")
    below = books.candidate(full_name="Jelle de Boer", target_group="participatiewet",
                            benefit_since=date(2015, 1, 1))
    books.placement(below, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("10"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["reported_eur"] == "0.00"
    assert f["forecast_eur"] == "0.00"
    assert f["status"] == "at_risk"

    at_minimum = books.candidate(full_name="Sjoukje Visser", target_group="participatiewet",
                                 benefit_since=date(2015, 1, 1))
    books.placement(at_minimum, employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("12"))
    f = await figures(pool, books, contract, date(2026, 12, 31))
    # Over 24 months on benefit: 40,000 x 12/36.
    assert f["reported_eur"] == "13333.33"


async def test_a_harlingen_candidate_dropping_below_twelve_hours_stops_counting_from_that_day(pool, books):
    employer = books.employer()
    contract = books.contract(employer, rule_set="harlingen-2024", contracting_authority="Gemeente Harlingen")
    candidate = books.candidate(target_group="participatiewet", benefit_since=date(2015, 1, 1))
    placement = books.placement(candidate, employer, contract, starts_on=date(2026, 1, 1),
                                hours_per_week=Decimal("36"))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("8"), effective_on=date(2026, 7, 1)))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["reported_eur"] == "19835.62"  # the first 181 days only
    assert quarters(f) == {"2026-Q1": "9863.01", "2026-Q2": "9972.61"}


async def test_amending_the_term_and_value_reclips_the_placements_and_moves_the_obligation(pool, books):
    employer = books.employer()
    contract = books.contract(employer)  # 2025-01-01 .. 2027-12-31, owes 50,000
    books.placement(books.candidate(target_group="doelgroepregister"), employer, contract,
                    starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    before = await figures(pool, books, contract, date(2027, 12, 31))

    books.run(c.AmendContract(contract_id=contract, changes={
        "ends_on": date(2026, 6, 30), "contract_value_eur": Decimal("600000.00")}))
    after = await figures(pool, books, contract, date(2027, 12, 31))

    assert before["reported_eur"] == "100000.00"  # uncapped: 2026 and 2027
    assert before["obligation_eur"] == "50000.00"
    assert after["obligation_eur"] == "30000.00"
    assert after["reported_eur"] == "24794.52"  # 181 days of 50,000/365, then the term ends
    assert after["forecast_eur"] == "24794.52"
    # Asked after the (new) end of the term: short of the obligation is not met.
    assert after["status"] == "not_met"
    assert after["shortfall_eur"] == "30000.00"  # nothing accepted
    assert set(quarters(after)) == {"2026-Q1", "2026-Q2"}


# -- decisions and other contributions --------------------------------------------------------
async def test_accepted_rejected_and_pending_amounts_follow_the_decisions(pool, books):
    employer = books.employer()
    contract = books.contract(employer, **TERM_2026)
    full = books.placement(books.candidate(full_name="Kees Bakker", target_group="participatiewet"),
                           employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    half = books.placement(books.candidate(full_name="Anouk Smit", target_group="participatiewet"),
                           employer, contract, starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))
    activity = books.new(c.ReportOtherActivity(contract_id=contract, description="Gastlessen ROC Midden",
                                               activity_date=date(2026, 5, 12), hours=Decimal("16")))

    undecided = await figures(pool, books, contract)
    accept(books, Contribution.id_for_placement(full))
    reject(books, Contribution.id_for_placement(half))
    f = await figures(pool, books, contract)

    assert undecided["pending_eur"] == "61600.00"
    assert undecided["accepted_eur"] == "0.00"
    assert undecided["forecast_eur"] == "61600.00"
    assert undecided["status"] == "on_track"
    assert f["reported_eur"] == "61600.00"  # 40,000 + 20,000 + 16 h x 100
    assert f["accepted_eur"] == "40000.00"
    assert f["rejected_eur"] == "20000.00"
    assert f["pending_eur"] == "1600.00"
    assert f["percent_accepted"] == "80.0"
    # A rejected contribution will never count: 41,600 < 50,000.
    assert f["forecast_eur"] == "41600.00"
    assert f["status"] == "at_risk"

    listed = {x["id"]: x for x in await contributions_for_contract(pool, books.tenant.id, contract, AS_OF)}
    assert listed[str(Contribution.id_for_placement(full))]["status"] == "accepted"
    assert listed[str(Contribution.id_for_placement(full))]["value_eur"] == "40000.00"
    assert listed[str(Contribution.id_for_placement(half))]["status"] == "rejected"
    assert listed[str(Contribution.id_for_placement(half))]["reason"] == "Geen bewijs van uren"
    assert listed[str(activity)] == {**listed[str(activity)], "kind": "other_activity",
                                     "value_eur": "1600.00", "status": "pending"}


async def test_social_enterprise_purchases_count_in_full_or_for_half_and_can_achieve_the_obligation(
        pool, books):
    employer = books.employer()
    contract = books.contract(employer, contract_value_eur=Decimal("100000.00"))  # owes 5,000
    registered = books.new(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Groen Doen Sociaal B.V.", invoice_amount_eur_excl_vat=Decimal("10000.00"),
        register="registered_social_enterprise", invoice_date=date(2026, 3, 1),
        description="Groenonderhoud door een sociaal ontwikkelbedrijf"))
    books.run(c.ReportSocialEnterprisePurchase(
        contract_id=contract, supplier="Koffie met Impact", invoice_amount_eur_excl_vat=Decimal("10000.00"),
        register="social_enterprise_nl_member", invoice_date=date(2026, 3, 2),
        description="Catering voor de bouwplaats"))

    pending = await figures(pool, books, contract)
    accept(books, registered)
    f = await figures(pool, books, contract)

    assert pending["obligation_eur"] == "5000.00"
    assert pending["reported_eur"] == "15000.00"  # 10,000 x 100% + 10,000 x 50%
    assert pending["pending_eur"] == "15000.00"
    assert pending["status"] == "on_track"
    assert f["accepted_eur"] == "10000.00"
    assert f["pending_eur"] == "5000.00"
    assert f["percent_accepted"] == "100.0"  # capped; what is over shows as a surplus
    assert f["surplus_eur"] == "5000.00"
    assert f["status"] == "achieved"


async def test_other_activities_count_their_hours_at_100_euro_or_their_costs(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    books.run(c.ReportOtherActivity(contract_id=contract, description="Sollicitatietrainingen",
                                    activity_date=date(2026, 4, 1), hours=Decimal("16")))
    books.run(c.ReportOtherActivity(contract_id=contract, description="Werkplekaanpassing",
                                    activity_date=date(2026, 4, 2), costs_eur=Decimal("250.50")))

    f = await figures(pool, books, contract)
    day_before = await figures(pool, books, contract, date.today() - timedelta(days=1))

    assert f["reported_eur"] == "1850.50"  # 16 x 100 + 250.50
    assert f["pending_eur"] == "1850.50"
    # Reported today: not part of any day before today.
    assert day_before["reported_eur"] == "0.00"


async def _mixed_contract(pool: Any, books: Books) -> dict:
    """Two placements: one with an hours change, one accepted."""
    employer = books.employer()
    contract = books.contract(employer)
    placement = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                                starts_on=date(2025, 2, 17), hours_per_week=Decimal("24"))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("30"), effective_on=date(2025, 8, 4)))
    other = books.placement(books.candidate(full_name="Anouk Smit", target_group="wia_wao"), employer, contract,
                            starts_on=date(2025, 5, 5), hours_per_week=Decimal("20"))
    accept(books, Contribution.id_for_placement(other))
    return await figures(pool, books, contract, date(2026, 12, 31))


async def test_quarters_add_up_to_the_totals_within_rounding(pool, books):
    f = await _mixed_contract(pool, books)

    assert len(f["quarters"]) == 8  # 2025-Q1 .. 2026-Q4
    for kind in ("reported", "accepted", "pending", "rejected"):
        by_quarter = sum(Decimal(q[f"{kind}_eur"]) for q in f["quarters"])
        # Each figure is rounded to cents on its own: at most half a cent each.
        assert abs(by_quarter - Decimal(f[f"{kind}_eur"])) <= Decimal("0.005") * len(f["quarters"]), kind
    for q in f["quarters"]:
        parts = sum(Decimal(q[f"{k}_eur"]) for k in ("accepted", "pending", "rejected"))
        assert abs(parts - Decimal(q["reported_eur"])) <= Decimal("0.01"), q
    assert Decimal(f["accepted_eur"]) > 0 and Decimal(f["pending_eur"]) > 0


def test_the_overview_rolls_contracts_up_per_employer_and_in_total(client, system, books):
    token = token_for(system, books.tenant, "agency")
    h = bearer(token)

    def post(path: str, body: dict) -> dict:
        r = client.post(API + path, json=body, headers=h)
        assert r.status_code in (200, 201), r.text
        return r.json()

    de_vries = UUID(post("/employers", {"name": "Bouwbedrijf De Vries"})["id"])
    jansen = UUID(post("/employers", {"name": "Schoonmaakbedrijf Jansen"})["id"])
    c1 = books.contract(de_vries, **TERM_2026)  # owes 50,000
    c2 = books.contract(de_vries, title="Riolering Overvecht", contract_value_eur=Decimal("200000.00"),
                        **TERM_2026)  # owes 10,000
    c3 = books.contract(jansen, title="Schoonmaak stadhuis", contract_value_eur=Decimal("400000.00"),
                        obligation_percent=Decimal("2.5"))  # owes 10,000
    p1 = books.placement(books.candidate(target_group="participatiewet"), de_vries, c1,
                         starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    books.placement(books.candidate(full_name="Anouk Smit", target_group="participatiewet"), de_vries, c2,
                    starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))
    purchase = post(f"/contracts/{c3}/contributions", {
        "kind": "social_enterprise_purchase", "supplier": "Groen Doen Sociaal B.V.",
        "invoice_amount_eur_excl_vat": "12000.00", "register": "social_enterprise_nl_member",
        "invoice_date": "2026-02-01", "description": "Schoonmaakmiddelen"})["id"]
    post(f"/contributions/{purchase}/accept", {"reason": "Factuur gezien", "decided_on": "2026-11-01"})
    refused = post(f"/contracts/{c3}/contributions", {
        "kind": "other_activity", "description": "Open dag", "activity_date": "2026-02-02", "hours": "8"})["id"]
    post(f"/contributions/{refused}/reject", {"reason": "Geen social return", "decided_on": "2026-11-01"})
    post(f"/contributions/{Contribution.id_for_placement(p1)}/accept", {"decided_on": "2026-11-01"})
    catch_up(system, books.tenant)

    r = client.get(f"{API}/compliance", params={"as_of": str(AS_OF)}, headers=h)
    assert r.status_code == 200, r.text
    summary = r.json()
    per_contract = {}
    for cid in (c1, c2, c3):
        one = client.get(f"{API}/contracts/{cid}/compliance", params={"as_of": str(AS_OF)}, headers=h)
        assert one.status_code == 200, one.text
        per_contract[str(cid)] = one.json()

    rows = {x["contract_id"]: x for x in summary["contracts"]}
    assert set(rows) == set(per_contract)
    for cid, detail in per_contract.items():
        for k in ("obligation", "accepted", "reported", "forecast"):
            assert rows[cid][f"{k}_eur"] == detail[f"{k}_eur"], (cid, k)
        assert rows[cid]["status"] == detail["status"], cid
        assert rows[cid]["percent_accepted"] == detail["percent_accepted"], cid

    # Hand-worked: c1 40,000 accepted; c2 20,000 pending; c3 6,000 accepted, 800 rejected.
    assert rows[str(c1)]["accepted_eur"] == "40000.00"
    assert rows[str(c2)]["reported_eur"] == "20000.00"
    assert rows[str(c3)]["accepted_eur"] == "6000.00"
    assert rows[str(c3)]["status"] == "at_risk"
    assert rows[str(c2)]["status"] == "on_track"

    employers = {e["employer_id"]: e for e in summary["employers"]}
    assert set(employers) == {str(de_vries), str(jansen)}
    for k in ("obligation", "accepted", "reported", "forecast"):
        for emp in (de_vries, jansen):
            expected = sum(Decimal(x[f"{k}_eur"]) for x in summary["contracts"] if x["employer_id"] == str(emp))
            assert Decimal(employers[str(emp)][f"{k}_eur"]) == expected, (emp, k)
        assert Decimal(summary["total"][f"{k}_eur"]) == sum(Decimal(x[f"{k}_eur"]) for x in summary["contracts"]), k
    assert summary["total"]["obligation_eur"] == "70000.00"
    assert summary["total"]["accepted_eur"] == "46000.00"
    assert summary["total"]["reported_eur"] == "66800.00"  # the rejected 800 was reported too
    assert summary["total"]["percent_accepted"] == "65.7"
    assert employers[str(de_vries)]["obligation_eur"] == "60000.00"
    assert employers[str(jansen)]["accepted_eur"] == "6000.00"


def test_an_employer_user_sees_only_its_own_contracts_in_the_overview(client, system, books):
    de_vries, jansen = books.employer(), books.employer("Schoonmaakbedrijf Jansen")
    mine = books.contract(de_vries)
    books.contract(jansen, title="Schoonmaak stadhuis")
    catch_up(system, books.tenant)
    token = token_for(system, books.tenant, "employer", employer_id=de_vries)

    r = client.get(f"{API}/compliance", headers=bearer(token))

    assert r.status_code == 200, r.text
    assert [x["contract_id"] for x in r.json()["contracts"]] == [str(mine)]
    assert r.json()["total"]["obligation_eur"] == "50000.00"


def test_another_tenants_contract_is_not_found(client, system, books, new_books):
    employer = books.employer()
    contract = books.contract(employer)
    catch_up(system, books.tenant)
    outsider = new_books("Andere Detachering B.V.")
    token = token_for(system, outsider.tenant, "agency")

    r = client.get(f"{API}/contracts/{contract}/compliance", headers=bearer(token))
    overview = client.get(f"{API}/compliance", headers=bearer(token))

    assert r.status_code == 404
    assert overview.json()["contracts"] == []
    assert eur(overview.json()["total"]["obligation_eur"]) == "0.00"


# -- the summary from c_contract_totals ----------------------------------------------------
async def test_the_summary_from_kept_totals_equals_each_contracts_figures_on_any_day(pool, books):
    from projections.compliance import compliance_summary

    employer = books.employer()
    contract = books.contract(employer)  # 2025-2027
    other = books.contract(employer, title="Riolering Overvecht", contract_value_eur=Decimal("200000.00"))
    full = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                           starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    half = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                           starts_on=date(2026, 3, 1), hours_per_week=Decimal("18"))
    books.run(c.ChangeHours(placement_id=full, hours_per_week=Decimal("24"), effective_on=date(2026, 7, 1)))
    books.run(c.EndPlacement(placement_id=half, ends_on=date(2026, 9, 30), reason="resigned"))
    accept(books, Contribution.id_for_placement(full))
    reject(books, Contribution.id_for_placement(half))
    books.placement(books.candidate(target_group="participatiewet"), employer, other,
                    starts_on=date(2026, 5, 1), hours_per_week=Decimal("36"))
    days = (date(2025, 12, 31), date(2026, 2, 14), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31),
            date(2027, 12, 31), date(2029, 1, 1))

    async def both_ways(day: date) -> dict:
        found = await compliance_summary(pool, books.tenant.id, day)
        summary = {r["contract_id"]: r for r in found["contracts"]}
        for k in (contract, other):
            one = await compliance_for_contract(pool, books.tenant.id, k, day)
            for figure in ("accepted", "forecast"):
                assert summary[str(k)][f"{figure}_eur"] == one[f"{figure}_eur"], (day, k, figure)
            # The contract's page adds up the rounded accepted, rejected and pending
            # amounts; the summary rounds their sum: at most a cent apart.
            gap = Decimal(summary[str(k)]["reported_eur"]) - Decimal(one["reported_eur"])
            assert abs(gap) <= Decimal("0.01"), (day, k)
        return found

    catch_up(books.system, books.tenant)
    from_totals = [await both_ways(day) for day in days]
    assert (await compliance_summary(pool, books.tenant.id, date(2026, 12, 31)))["contracts"][0]["accepted_eur"] \
        != "0.00"

    # A database projected before the totals existed: summed from the days
    # instead, and the totals are made from the days on the next change.
    with books.system.stores.database("default").connection() as conn:
        conn.execute("DELETE FROM rm.c_contract_totals WHERE tenant_id = %s", (books.tenant.id,))
    forget_figures()
    assert [await both_ways(day) for day in days] == from_totals  # to the cent
    books.run(c.ChangeHours(placement_id=full, hours_per_week=Decimal("30"), effective_on=date(2026, 10, 1)))
    catch_up(books.system, books.tenant)
    with books.system.stores.database("default").connection() as conn:
        kept = conn.execute("SELECT count(*) AS n FROM rm.c_contract_totals WHERE tenant_id = %s AND contract_id = %s",
                            (books.tenant.id, contract)).fetchone()["n"]
    # pending (the change to the accepted placement: its accepted figure is frozen
    # at the decision) and accepted and rejected (made from the days with it)
    assert kept == 3
    from_new_totals = [await both_ways(day) for day in days]
    with books.system.stores.database("default").connection() as conn:
        conn.execute("DELETE FROM rm.c_contract_totals WHERE tenant_id = %s", (books.tenant.id,))
    forget_figures()
    assert [await both_ways(day) for day in days] == from_new_totals


async def test_an_accepted_placements_figure_does_not_move_when_its_hours_are_changed_backwards(pool, books):
    """Issue 12's drift, without statements: once accepted, a backdated hours
    change moves the pending figure, not the accepted one."""
    employer = books.employer()
    contract = books.contract(employer)
    placement = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                                starts_on=date(2026, 1, 1), hours_per_week=Decimal("18"))
    accept(books, Contribution.id_for_placement(placement))
    before = await figures(pool, books, contract, date(2026, 12, 31))
    books.run(c.ChangeHours(placement_id=placement, hours_per_week=Decimal("36"), effective_on=date(2026, 7, 1)))

    after = await figures(pool, books, contract, date(2026, 12, 31))

    assert before["accepted_eur"] == after["accepted_eur"] == "20000.00"  # 18 of 36 hours, a year
    # 184 more days at 18 hours more: 184/365 x 40,000 x 18/36, pending a new decision
    assert after["pending_eur"] == "10082.19"
    assert after["reported_eur"] == "30082.19"


async def test_a_late_end_of_an_accepted_placement_shows_as_a_negative_pending_difference(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    placement = books.placement(books.candidate(target_group="participatiewet"), employer, contract,
                                starts_on=date(2026, 1, 1), hours_per_week=Decimal("36"))
    accept(books, Contribution.id_for_placement(placement))
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2026, 6, 30), reason="resigned"))

    f = await figures(pool, books, contract, date(2026, 12, 31))

    assert f["accepted_eur"] == "40000.00"  # what was accepted: the whole year, until someone decides again
    assert f["reported_eur"] == "19835.62"  # 181 days: what the placement is worth now
    assert f["pending_eur"] == "-20164.38"

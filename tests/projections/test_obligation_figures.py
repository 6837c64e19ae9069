"""The obligation on the compliance figures by its basis, cap and PSO discount,
and the shortfall after the repair period, read back through the real
projection and queries (docs/valuation.md, "Obligation"). Hand-worked figures."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from projections import portfolio
from projections.compliance import compliance_for_contract, compliance_summary
from service import commands as c
from tests.api.test_organisations import _party, oin
from tests.obligation_rules import v2_rule_sets  # noqa: F401  (fixture)
from tests.projections.conftest import Books, catch_up

pytestmark = pytest.mark.timeout(60)

TERM_2026 = {"starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31), "awarded_on": date(2025, 11, 15)}


async def figures(pool: Any, books: Books, contract: UUID, as_of: date) -> dict:
    catch_up(books.system, books.tenant)
    found = await compliance_for_contract(pool, books.tenant.id, contract, as_of)
    assert found is not None
    return found


async def test_a_capped_obligation_with_a_valid_pso_certificate(pool, books, v2_rule_sets):
    employer = books.employer()
    contract = books.contract(employer, contract_value_eur=Decimal("20000000.00"), obligation_percent=Decimal("2"),
                              obligation_cap_eur=Decimal("300000.00"), pso_step="step_2",
                              pso_valid_until=date(2028, 3, 1))
    f = await figures(pool, books, contract, date(2026, 6, 30))
    # 2% of 20,000,000 = 400,000, capped at 300,000; PSO step 2 (v2 seed: 15%): 45,000 off = 255,000
    assert f["obligation_eur"] == "255000.00"
    how = f["obligation"]
    assert (how["before_cap_eur"], how["cap_eur"], how["cap_applied"]) == ("400000.00", "300000.00", True)
    assert (how["pso_discount_percent"], how["pso_discount_eur"], how["warnings"]) == ("15", "45000.00", [])
    summary = await compliance_summary(pool, books.tenant.id, date(2026, 6, 30))
    (row,) = summary["contracts"]
    assert row["obligation_eur"] == "255000.00" and summary["total"]["obligation_eur"] == "255000.00"


async def test_a_pso_certificate_expiring_before_the_term_ends_gives_no_discount(pool, books, v2_rule_sets):
    employer = books.employer()
    contract = books.contract(employer, pso_step="step_3", pso_valid_until=date(2027, 6, 30))
    f = await figures(pool, books, contract, date(2026, 6, 30))
    # 5% of 1,000,000 = 50,000, no discount: the certificate ends before 2027-12-31
    assert f["obligation_eur"] == "50000.00"
    assert f["obligation"]["warnings"] == [
        "PSO certificate expires on 2027-06-30, before the term ends on 2027-12-31: no PSO discount"]


async def test_wage_bill_and_fixed_bases(pool, books):
    employer = books.employer()
    wage = books.contract(employer, obligation_basis="wage_bill", wage_bill_eur=Decimal("640000.00"))
    fixed = books.contract(employer, obligation_basis="fixed", obligation_fixed_eur=Decimal("75000.00"))
    # 5% of the wage bill 640,000 = 32,000; a fixed 75,000
    assert (await figures(pool, books, wage, date(2026, 1, 1)))["obligation_eur"] == "32000.00"
    assert (await figures(pool, books, fixed, date(2026, 1, 1)))["obligation_eur"] == "75000.00"
    books.run(c.AmendContract(contract_id=wage, changes={"wage_bill_eur": Decimal("700000.00")}))
    # 5% of 700,000 = 35,000
    assert (await figures(pool, books, wage, date(2026, 1, 1)))["obligation_eur"] == "35000.00"


async def test_turnover_in_two_periods_and_a_correction(pool, books):
    employer = books.employer()
    contract = books.contract(employer, obligation_basis="invoiced_turnover")
    for start, end, amount in ((date(2025, 1, 1), date(2025, 12, 31), "400000.00"),
                               (date(2026, 1, 1), date(2026, 12, 31), "250000.00")):
        books.run(c.ReportTurnover(contract_id=contract, period_start=start, period_end=end, amount_eur=amount))
    # As of 2025-12-31 only 2025 has started: 5% of 400,000 = 20,000
    assert (await figures(pool, books, contract, date(2025, 12, 31)))["obligation_eur"] == "20000.00"
    # As of 2026-06-30: 5% of 650,000 = 32,500
    assert (await figures(pool, books, contract, date(2026, 6, 30)))["obligation_eur"] == "32500.00"
    books.run(c.ReportTurnover(contract_id=contract, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                               amount_eur="450000.00"))
    # The correction replaces 2025: 5% of (450,000 + 250,000) = 35,000
    f = await figures(pool, books, contract, date(2026, 6, 30))
    assert f["obligation_eur"] == "35000.00"
    assert [p["amount_eur"] for p in f["obligation"]["turnover_periods"]] == ["450000.00", "250000.00"]
    summary = await compliance_summary(pool, books.tenant.id, date(2025, 12, 31))
    assert summary["contracts"][0]["obligation_eur"] == "22500.00"  # 5% of the corrected 450,000


async def test_a_shortfall_is_in_repair_then_not_met_with_its_consequence(pool, books, v2_rule_sets):
    employer = books.employer()
    contract = books.contract(employer, contracting_authority="Gemeente Harlingen", rule_set="harlingen-2024",
                              obligation_basis="fixed", obligation_fixed_eur=Decimal("10000.00"), **TERM_2026)
    activity = books.new(c.ReportOtherActivity(contract_id=contract, description="Gastlessen ROC Friese Poort",
                                               activity_date=date(2026, 5, 12), hours=Decimal("16")))
    books.run(c.AcceptContribution(contribution_id=activity, reason="Akkoord", decided_on=date(2026, 12, 1)))
    # accepted: 16 h x 100 = 1,600; short 10,000 - 1,600 = 8,400. Harlingen v2: 6 months' repair to 2027-06-30.
    during = await figures(pool, books, contract, date(2027, 6, 30))
    assert (during["status"], during["shortfall_eur"]) == ("in_repair", "8400.00")
    assert during["shortfall"]["repair_until"] == "2027-06-30"
    after = await figures(pool, books, contract, date(2027, 7, 1))
    assert (after["status"], after["shortfall_eur"]) == ("not_met", "8400.00")
    assert after["shortfall"]["consequence"] == "withhold"
    assert after["shortfall"]["applies"].endswith("unless the supplier shows best efforts (inspanningsverplichting)")
    summary = await compliance_summary(pool, books.tenant.id, date(2027, 7, 1))
    assert summary["contracts"][0]["status"] == "not_met"
    assert summary["contracts"][0]["shortfall"]["consequence"] == "withhold"


async def test_the_portfolio_shows_a_shortfall_in_repair_then_not_met_as_compliance_does(pool, books, v2_rule_sets):
    authority = _party(books.system, "authority", "Gemeente Harlingen", oin=oin()).org.id
    employer = books.employer()
    # Harlingen v2: 6 months' repair after the term; v1 has no shortfall rule (not_met right after the term).
    repair = books.contract(employer, contracting_authority="Gemeente Harlingen", rule_set="harlingen-2024",
                            obligation_basis="fixed", obligation_fixed_eur=Decimal("10000.00"),
                            authority_org_id=authority, title="Met herstel", **TERM_2026)
    plain = books.contract(employer, authority_org_id=authority, rule_set_version=1, title="Zonder herstel",
                           **TERM_2026)
    met = books.contract(employer, contracting_authority="Gemeente Harlingen", rule_set="harlingen-2024",
                         obligation_basis="fixed", obligation_fixed_eur=Decimal("1000.00"),
                         authority_org_id=authority, title="Gehaald", **TERM_2026)
    for contract in (repair, met):
        activity = books.new(c.ReportOtherActivity(contract_id=contract, description="Gastlessen ROC",
                                                   activity_date=date(2026, 5, 12), hours=Decimal("16")))
        books.run(c.AcceptContribution(contribution_id=activity, reason="Akkoord", decided_on=date(2026, 12, 1)))

    async def statuses(as_of: date, status: str | None = None) -> dict[str, str]:
        catch_up(books.system, books.tenant)
        listed = await portfolio.contracts(pool, "authority", authority, as_of, portfolio.Filters(status=status))
        found = {r["title"]: r["status"] for r in listed["contracts"]}
        for title, contract in (("Met herstel", repair), ("Zonder herstel", plain), ("Gehaald", met)):
            if title in found:  # the same status as the contract's own compliance figures
                assert found[title] == (await figures(pool, books, contract, as_of))["status"], (title, as_of)
        return found

    # accepted 16 h x 100 = 1,600: Gehaald's 1,000 is met; Met herstel's 10,000 is not.
    assert (await statuses(date(2026, 12, 31)))["Gehaald"] == "achieved"
    assert await statuses(date(2027, 6, 30)) == {"Met herstel": "in_repair", "Zonder herstel": "not_met",
                                                 "Gehaald": "achieved"}
    assert await statuses(date(2027, 7, 1)) == {"Met herstel": "not_met", "Zonder herstel": "not_met",
                                                "Gehaald": "achieved"}
    # The status filter knows the shortfall states.
    assert await statuses(date(2027, 6, 30), "in_repair") == {"Met herstel": "in_repair"}
    assert set(await statuses(date(2027, 7, 1), "not_met")) == {"Met herstel", "Zonder herstel"}


async def test_a_contract_under_a_version_1_rule_set_keeps_its_figures(pool, books):
    employer = books.employer()
    contract = books.contract(employer, **TERM_2026)  # 5% of 1,000,000 under utrecht-2024 v1
    f = await figures(pool, books, contract, date(2027, 1, 1))
    # not_met the day after the term, no repair period, no shortfall rule: as before issue 13
    assert (f["obligation_eur"], f["status"], f["shortfall_eur"]) == ("50000.00", "not_met", "50000.00")
    assert "shortfall" not in f
    assert f["obligation"]["basis"] == "contract_value" and f["obligation"]["cap_eur"] is None


async def test_the_portfolio_lists_the_capped_obligation_and_the_turnover_reported(pool, books, v2_rule_sets):
    harlingen = _party(books.system, "authority", "Gemeente Harlingen", oin=oin())
    employer = books.employer()
    capped = books.contract(employer, contract_value_eur=Decimal("20000000.00"), obligation_percent=Decimal("2"),
                            obligation_cap_eur=Decimal("300000.00"), authority_org_id=harlingen.org.id)
    turnover = books.contract(employer, obligation_basis="invoiced_turnover", authority_org_id=harlingen.org.id)
    books.run(c.ReportTurnover(contract_id=turnover, period_start=date(2025, 1, 1), period_end=date(2025, 12, 31),
                               amount_eur="400000.00"))
    catch_up(books.system, books.tenant)
    rows = await pool.fetch(
        "SELECT contract_id, obligation_eur FROM rm.portfolio_contracts WHERE tenant_id = $1 AND gen = "
        "(SELECT gen FROM rm.live WHERE projection = 'portfolio' AND tenant_id = $1)", books.tenant.id)
    found = {r["contract_id"]: r["obligation_eur"] for r in rows}
    # 2% of 20,000,000 = 400,000 capped at 300,000; 5% of the 400,000 turnover reported = 20,000
    assert found == {capped: Decimal("300000"), turnover: Decimal("20000")}

"""The contract form takes the obligation's terms; the contract page shows how
the obligation is reached and the PSO warning (docs/valuation.md, "Obligation")."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from tests.service.conftest import register_contract
from tests.web.conftest import Agency, Browser


def test_the_contract_page_shows_the_cap_and_the_pso_warning(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    contract = agency.run(register_contract(
        ids["employer"], contract_value_eur=Decimal("20000000.00"), obligation_percent=Decimal("2"),
        obligation_cap_eur=Decimal("300000.00"), pso_step="step_1", pso_valid_until=date(2027, 6, 30)))
    agency.project()
    html = pages(agency.user("agency")).get(f"/contracts/{contract}?lang=en").text
    # 2% of 20,000,000 = 400,000, capped at 300,000; the certificate ends before 2027-12-31: no discount
    assert 'id="obligation-how"' in html and "€400,000.00" in html and "capped at €300,000.00" in html
    assert "PSO certificate expires on 30 Jun 2027, before the term ends on 31 Dec 2027" in html


def test_the_contract_form_registers_a_wage_bill_obligation(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    form = {"employer_id": str(ids["employer"]), "title": "Rijkskantoor schoonmaak",
            "contracting_authority": "Rijksoverheid", "contract_value_eur": "800000", "obligation_percent": "5",
            "awarded_on": "2025-01-15", "starts_on": "2025-02-01", "ends_on": "2027-01-31",
            "rule_set": "utrecht-2024", "accepted_by": "authority", "obligation_basis": "wage_bill"}
    missing = me.post("/contracts", form)
    assert missing.status_code == 422 and "Geef de loonsom" in missing.text
    made = me.post("/contracts", {**form, "wage_bill_eur": "640000"})
    assert made.status_code == 303, made.text[:500]
    agency.project()
    page = me.get(made.headers["location"]).text
    # 5% of the wage bill 640,000 = 32,000
    assert "€\xa032.000,00" in page and "de loonsom" in page, made.headers["location"]


def test_turnover_is_reported_and_corrected_on_the_contract_page(agency: Agency,
                                                                 pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    contract = agency.run(register_contract(ids["employer"], obligation_basis="invoiced_turnover"))
    agency.project()
    me = pages(agency.user("agency"))
    path = f"/contracts/{contract}/turnover"
    bad = me.post(path, {"period_start": "2025-06-01", "period_end": "2025-05-31", "amount_eur": "1000"})
    assert bad.status_code == 422 and 'id="turnover-period_end-error"' in bad.text
    for start, end, amount in (("2025-01-01", "2025-12-31", "400000"), ("2026-01-01", "2026-12-31", "250000"),
                               ("2025-01-01", "2025-12-31", "450000")):
        r = me.post(path, {"period_start": start, "period_end": end, "amount_eur": amount})
        assert r.status_code == 303, r.text[:500]
    agency.project()
    html = me.get(f"/contracts/{contract}?lang=en").text
    assert "<s>€400,000.00</s>" in html and "replaces €400,000.00" in html
    # 5% of (450,000 + 250,000) = 35,000 as of today (both periods have started)
    assert "€35,000.00" in html
    employer_view = pages(agency.user("employer", employer_id=ids["employer"]))
    assert employer_view.post(path, {"period_start": "2026-01-01", "period_end": "2026-12-31",
                                     "amount_eur": "1"}).status_code in (403, 404)


def test_the_amend_form_changes_the_obligation_terms(agency: Agency, pages: Callable[..., Browser]) -> None:
    ids = agency.seed()
    agency.project()
    me = pages(agency.user("agency"))
    contract = ids["contract"]
    form = me.get(f"/contracts/{contract}").text
    assert 'id="amend-obligation_basis"' in form and 'id="amend-pso_valid_until"' in form
    terms = {"title": "Onderhoud openbare ruimte", "contracting_authority": "Gemeente Utrecht",
             "contract_value_eur": "1000000", "obligation_percent": "5", "starts_on": "2025-01-01",
             "ends_on": "2027-12-31"}
    missing = me.post(f"/contracts/{contract}/amend", {**terms, "obligation_basis": "fixed"})
    assert missing.status_code == 422 and 'id="amend-obligation_fixed_eur-error"' in missing.text
    ok = me.post(f"/contracts/{contract}/amend", {**terms, "obligation_basis": "fixed", "obligation_fixed_eur": "42000"})
    assert ok.status_code == 303, ok.text[:500]
    agency.project()
    # the fixed 42,000 replaces 5% of 1,000,000 = 50,000
    assert "€42,000.00" in me.get(f"/contracts/{contract}?lang=en").text

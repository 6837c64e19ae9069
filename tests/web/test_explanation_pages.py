"""The contract page says, per contribution, why it is worth what it is: in
Dutch and in English, in a real browser, for the contracting authority."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from service import commands as c
from tests.web.conftest import Agency, expect, login


def test_the_authority_sees_why_each_line_is_worth_what_it_is_in_dutch_and_english(
        agency: Agency, page: Any) -> None:
    ids = agency.seed()  # Utrecht doelgroepregister (50,000 a year), 24 hours, started 60 days ago
    later = agency.run(c.RegisterCandidate(
        full_name="Kees Bakker", date_of_birth=date(1990, 1, 1), target_group="participatiewet",
        competences=["Schoonmaak"], support_needs=""))
    agency.run(c.StartPlacement(candidate_id=later, employer_id=ids["employer"], contract_id=ids["contract"],
                                vacancy_id=None, starts_on=date.today() + timedelta(days=30),
                                hours_per_week=Decimal("32"), permanent_contract=False))
    agency.project()
    login(page, agency.user("authority", organisation="Gemeente Utrecht").email)

    page.goto(f"/contracts/{ids['contract']}?lang=nl")
    lines = page.locator("#contributions .why")
    valued = lines.locator("xpath=self::*[@data-zero-code='']")
    zero = page.locator("#contributions .why[data-zero-code='not_active_in_period']")
    expect(valued).to_contain_text("Waarom: bouwblok € 50.000,00 per jaar;")
    # 61 days so far (the first day included), 24 of the 36 hours counted.
    expect(valued).to_contain_text("61 van 365 dagen à 24 van 36 uur per week")
    expect(valued).to_contain_text("geen maximum")
    expect(zero).to_contain_text("Waarom EUR 0: geen dag van de plaatsing valt in de periode.")
    assert "doelgroepregister" not in page.content()

    page.goto(f"/contracts/{ids['contract']}?lang=en")
    expect(valued).to_contain_text("Why: block €50,000.00 a year; 61 of 365 days at 24 of 36 hours a week; no cap;")
    expect(valued).to_contain_text("eligible on the award date")
    expect(zero).to_contain_text("Why EUR 0: no day of the placement falls in the period.")
    assert page.console_errors == []


def test_a_purchase_and_an_activity_say_how_their_amount_is_counted(agency: Agency, page: Any) -> None:
    ids = agency.seed()
    agency.run(c.ReportSocialEnterprisePurchase(
        contract_id=ids["contract"], supplier="Koffie met Impact", register="social_enterprise_nl_member",
        invoice_amount_eur_excl_vat=Decimal("1000.00"), invoice_date=date.today(), description="Catering"))
    agency.run(c.ReportOtherActivity(contract_id=ids["contract"], description="Sollicitatietrainingen",
                                     activity_date=date.today(), hours=Decimal("16")))
    agency.project()
    login(page, agency.user("authority", organisation="Gemeente Utrecht").email)

    page.goto(f"/contracts/{ids['contract']}?lang=nl")
    why = page.locator("#contributions .why")
    expect(why.filter(has_text="factuur")).to_contain_text("Waarom: factuur € 1.000,00 excl. btw, telt voor 50,0%.")
    expect(why.filter(has_text="uren")).to_contain_text("Waarom: 16 medewerkersuren à € 100,00 per uur.")
    page.goto(f"/contracts/{ids['contract']}/report?lang=en")
    expect(page.locator(".why").filter(has_text="invoice")).to_contain_text(
        "Why: invoice €1,000.00 excl. VAT, counted for 50.0%.")


def test_a_placement_under_a_cap_in_hours_says_the_cap_the_hours_used_and_the_day_reached(
        agency: Agency, page: Any) -> None:
    today = date.today()
    employer = agency.run(c.RegisterEmployer(name="Groenbedrijf Jansen"))
    contract = agency.run(c.RegisterContract(
        employer_id=employer, title="Groenonderhoud", contracting_authority="Gemeente Utrecht",
        contract_value_eur=Decimal("1000000.00"), obligation_percent=Decimal("5"),
        starts_on=today - timedelta(days=1000), ends_on=today + timedelta(days=100),
        awarded_on=today - timedelta(days=1100), rule_set="utrecht-2024", rule_set_version=2))
    person = agency.run(c.RegisterCandidate(
        full_name="Kees Bakker", date_of_birth=date(1990, 1, 1), target_group="participatiewet",
        competences=["Groen"], support_needs="", benefit_since=date(2015, 1, 1)))
    agency.run(c.StartPlacement(candidate_id=person, employer_id=employer, contract_id=contract, vacancy_id=None,
                                starts_on=today - timedelta(days=1000), hours_per_week=Decimal("36"),
                                permanent_contract=False))
    agency.project()
    login(page, agency.user("authority", organisation="Gemeente Utrecht").email)

    # Full time, 36/7 hours a day: day n counts while (n - 1) x 36/7 < 3754.29, so n <= 731;
    # of the 1001 days to today, 731 count and 270 come after the cap.
    page.goto(f"/contracts/{contract}?lang=en")
    why = page.locator("#contributions .why")
    expect(why).to_contain_text("731 of 365 days at 36 of 36 hours a week; 270 days after the cap;")
    expect(why).to_contain_text("cap 3,754.29 hours worked: 0 used before this placement, 3,754.29 left, reached on")
    page.goto(f"/contracts/{contract}?lang=nl")
    expect(why).to_contain_text("maximum 3.754,29 gewerkte uren: 0 gebruikt vóór deze plaatsing, 3.754,29 over, "
                                "bereikt op")
    assert page.console_errors == []

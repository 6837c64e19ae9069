"""The forecast worked out by hand: each placement stops at its planned end (an
extension moves it) or its actual end, and the forecast is shown on accepted
and on pending contributions separately (forecast_eur is their sum).

Utrecht, doelgroepregister: 50,000 a year, basis 36 hours, no cap. The
contract runs 2025-01-01..2027-12-31 (three years), owes 50,000 (5% of
1,000,000). A day of a full-time placement is worth 50,000/365.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain.contribution import Contribution
from projections.compliance import compliance_for_contract, compliance_summary
from service import commands as c
from tests.projections.conftest import API, Books, bearer, catch_up, token_for

pytestmark = pytest.mark.timeout(60)

FULL_TIME = Decimal("36")


async def figures(pool: Any, books: Books, contract: UUID, as_of: date) -> dict:
    catch_up(books.system, books.tenant)
    found = await compliance_for_contract(pool, books.tenant.id, contract, as_of)
    assert found is not None
    return found


def one_year_placement(books: Books, employer: UUID, contract: UUID, **overrides: Any) -> UUID:
    return books.placement(books.candidate(target_group="doelgroepregister"), employer, contract,
                           starts_on=date(2025, 1, 1), hours_per_week=FULL_TIME,
                           **{"planned_end_on": date(2025, 12, 31), **overrides})


def forecast(f: dict) -> tuple[str, str, str]:
    return f["forecast_eur"], f["forecast_accepted_eur"], f["forecast_pending_eur"]


async def test_a_one_year_fixed_term_placement_on_a_three_year_contract_forecasts_one_year(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    one_year_placement(books, employer, contract)

    f = await figures(pool, books, contract, date(2025, 6, 30))

    # 181 days so far: 181 x 50,000 / 365 = 24,794.52, pending (not decided).
    assert f["reported_eur"] == "24794.52"
    # To its planned end: 365 days = 50,000, not three years (150,000). All pending.
    assert forecast(f) == ("50000.00", "0.00", "50000.00")
    assert f["status"] == "on_track"  # 50,000 forecast >= 50,000 owed


async def test_an_accepted_placement_forecasts_on_accepted_and_a_pending_one_on_pending(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    accepted = one_year_placement(books, employer, contract)
    # 18 hours a week, 2025-07-01 to 2026-06-30: 365 days x 25,000 / 365 = 25,000.
    books.placement(books.candidate(target_group="doelgroepregister"), employer, contract,
                    starts_on=date(2025, 7, 1), hours_per_week=Decimal("18"), planned_end_on=date(2026, 6, 30))
    rejected = one_year_placement(books, employer, contract)
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(accepted), reason="Akkoord",
                                   decided_on=date(2025, 6, 1)))
    books.run(c.RejectContribution(contribution_id=Contribution.id_for_placement(rejected), reason="Geen bewijs",
                                   decided_on=date(2025, 6, 1)))

    f = await figures(pool, books, contract, date(2025, 6, 30))

    assert forecast(f) == ("75000.00", "50000.00", "25000.00")  # the rejected one counts nowhere
    assert f["status"] == "on_track"


async def test_an_extension_moves_the_planned_end_and_the_forecast(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    placement = one_year_placement(books, employer, contract)
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(placement), reason="Akkoord",
                                   decided_on=date(2025, 6, 1)))
    books.run(c.ExtendPlacement(placement_id=placement, until=date(2026, 12, 31)))

    f = await figures(pool, books, contract, date(2025, 6, 30))

    # 2025 and 2026: 730 days x 50,000 / 365 = 100,000. The accepted figure stays
    # what was accepted (one year); the extension's year awaits a new decision.
    assert forecast(f) == ("100000.00", "50000.00", "50000.00")


async def test_an_actual_end_before_the_planned_end_stops_the_forecast_there(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    placement = one_year_placement(books, employer, contract)
    books.run(c.EndPlacement(placement_id=placement, ends_on=date(2025, 3, 31), reason="resigned"))

    f = await figures(pool, books, contract, date(2025, 6, 30))

    # 90 days x 50,000 / 365 = 12,328.77, and nothing more to come.
    assert f["reported_eur"] == "12328.77"
    assert forecast(f) == ("12328.77", "0.00", "12328.77")
    assert f["status"] == "at_risk"


async def test_days_worked_after_the_planned_end_count_but_no_more_are_forecast(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    one_year_placement(books, employer, contract)  # neither ended nor extended

    f = await figures(pool, books, contract, date(2026, 3, 31))

    # 2025 (50,000) and 90 days of 2026 (12,328.77) were worked: they count.
    assert f["reported_eur"] == "62328.77"
    assert forecast(f) == ("62328.77", "0.00", "62328.77")


async def test_a_placement_without_a_planned_end_is_forecast_to_the_contract_end(pool, books):
    employer = books.employer()
    contract = books.contract(employer)
    one_year_placement(books, employer, contract, planned_end_on=None)

    f = await figures(pool, books, contract, date(2025, 6, 30))

    assert forecast(f) == ("150000.00", "0.00", "150000.00")  # three years


async def test_the_summary_and_the_api_give_the_same_forecast_as_the_contract_on_any_day(
        pool, books, client, system):
    employer = books.employer()
    contract = books.contract(employer)
    other = books.contract(employer, title="Riolering Overvecht", contract_value_eur=Decimal("200000.00"))
    accepted = one_year_placement(books, employer, contract)
    books.run(c.AcceptContribution(contribution_id=Contribution.id_for_placement(accepted), reason="Akkoord",
                                   decided_on=date(2025, 6, 1)))
    extended = books.placement(books.candidate(target_group="doelgroepregister"), employer, contract,
                               starts_on=date(2025, 4, 1), hours_per_week=Decimal("24"),
                               planned_end_on=date(2025, 9, 30))
    books.run(c.ChangeHours(placement_id=extended, hours_per_week=Decimal("30"), effective_on=date(2025, 8, 1)))
    books.run(c.ExtendPlacement(placement_id=extended, until=date(2026, 5, 31)))
    books.placement(books.candidate(target_group="participatiewet"), employer, other,
                    starts_on=date(2025, 2, 1), hours_per_week=FULL_TIME, planned_end_on=date(2025, 10, 31))
    catch_up(system, books.tenant)
    token = token_for(system, books.tenant, "agency")

    for day in (date(2024, 12, 31), date(2025, 3, 1), date(2025, 9, 30), date(2025, 12, 31),
                date(2026, 2, 14), date(2027, 12, 31), date(2028, 3, 1)):
        summary = await compliance_summary(pool, books.tenant.id, day)
        rows = {r["contract_id"]: r for r in summary["contracts"]}
        api = client.get(f"{API}/compliance", params={"as_of": str(day)}, headers=bearer(token)).json()
        api_rows = {r["contract_id"]: r for r in api["contracts"]}
        for cid in (contract, other):
            one = await figures(pool, books, cid, day)
            detail = client.get(f"{API}/contracts/{cid}/compliance", params={"as_of": str(day)},
                                headers=bearer(token)).json()
            assert forecast(rows[str(cid)]) == forecast(one) == forecast(api_rows[str(cid)]) \
                == forecast(detail), (day, cid)
            assert rows[str(cid)]["status"] == one["status"], (day, cid)
            assert Decimal(one["forecast_eur"]) == \
                Decimal(one["forecast_accepted_eur"]) + Decimal(one["forecast_pending_eur"])
        assert Decimal(summary["total"]["forecast_eur"]) == sum(
            Decimal(r["forecast_eur"]) for r in summary["contracts"])

    # Hand-worked, as of 2025-06-30: the accepted year 50,000; the extended one
    # 24 h from 2025-04-01 to 07-31 (122 days) and 30 h from 08-01 to 2026-05-31
    # (304 days): 122 x 50,000 x 24/36 / 365 + 304 x 50,000 x 30/36 / 365
    # = 11,141.55 + 34,703.20 = 45,844.75 (exactly 45,844.748858...).
    f = await figures(pool, books, contract, date(2025, 6, 30))
    assert forecast(f) == ("95844.75", "50000.00", "45844.75")
    # The other contract: participatiewet 40,000 from 2025-02-01 to 10-31, 273 days = 29,917.81.
    assert forecast(await figures(pool, books, other, date(2025, 6, 30)))[0] == "29917.81"


# -- the day count, read back through the projection's sums ----------------------------
async def test_a_full_leap_year_is_one_block_under_actual_actual_and_366_365ths_under_actual_365(
        pool, books, new_books, monkeypatch):
    import json
    import uuid
    from importlib import resources

    term = {"starts_on": date(2028, 1, 1), "ends_on": date(2028, 12, 31), "awarded_on": date(2027, 11, 1)}
    mine = books.employer()
    as_365 = books.contract(mine, **term)
    books.placement(books.candidate(target_group="doelgroepregister"), mine, as_365,
                    starts_on=date(2028, 1, 1), hours_per_week=FULL_TIME)
    # 366 days x 50,000 / 365 = 50,136.99 (shipped Utrecht: actual/365)
    f365 = await figures(pool, books, as_365, date(2028, 12, 31))
    assert f365["reported_eur"] == f365["forecast_eur"] == "50136.99"

    # The same under a rule set that counts actual/actual: Utrecht's figures, published under a name of its own.
    utrecht = json.loads(resources.files("domain.rulesets").joinpath("utrecht-2024.json").read_text("utf-8"))
    name = f"actual-{uuid.uuid4().hex[:8]}"
    books.system.registry.rule_sets.publish({**utrecht, "name": name, "day_count": "actual/actual"},
                                            owner_org_id=None, created_by=None)
    actual = new_books("Actual Detachering B.V.")
    employer = actual.employer()
    contract = actual.contract(employer, rule_set=name, **term)
    actual.placement(actual.candidate(target_group="doelgroepregister"), employer, contract,
                     starts_on=date(2027, 7, 1), hours_per_week=FULL_TIME)
    f = await figures(pool, actual, contract, date(2028, 12, 31))
    # Only 2028 is in the term: 366 days x 50,000 / 366 = 50,000 exactly.
    assert f["reported_eur"] == f["forecast_eur"] == "50000.00"
    # Per quarter: Q1 91 days x 50,000/366 = 12,431.69.
    assert f["quarters"][0]["reported_eur"] == "12431.69"
    summary = await compliance_summary(pool, actual.tenant.id, date(2028, 12, 31))
    assert summary["contracts"][0]["reported_eur"] == "50000.00"

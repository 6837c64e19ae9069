"""Period statements in the domain: periods, frozen lines, decisions and locks,
corrections of a submitted period."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.errors import InvalidValue
from domain.explanation import explain_other_activity, explain_placement
from domain.statement import (
    LineAlreadyDecided,
    Statement,
    StatementNotDraft,
    StatementNotSubmitted,
    accepted_total,
    check_period,
    corrections_for,
    current_values,
    lines_for,
    reporting_periods,
    Subject,
)
from domain.valuation import BlockValue
from tests.domain.builders import shipped_rules

UTRECHT = shipped_rules("utrecht-2024")
TERM = (date(2025, 1, 1), date(2026, 12, 31))
YEAR_2025 = (date(2025, 1, 1), date(2025, 12, 31))
YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))
BLOCK = BlockValue(block_eur=Decimal("50000"), bonus_eur=Decimal("0"), eligible=True, reason="", capped=False)


def placement(hours: list[tuple[date, str]], ended_on: date | None = None, rules=UTRECHT,
              contribution_id=None) -> Subject:
    history = [{"effective_on": d, "hours_per_week": Decimal(h)} for d, h in hours]

    def explain(start, end):
        return explain_placement(rules, valued=True, block=BLOCK, judged_on=date(2024, 12, 1),
                                 permanent_contract=False, hours_history=history, starts_on=hours[0][0],
                                 ended_on=ended_on, term_start=TERM[0], term_end=TERM[1], period_start=start,
                                 period_end=end)
    return Subject(contribution_id=contribution_id or uuid4(), kind="placement", placement_id=uuid4(),
                   first=hours[0][0], last=ended_on, explain=explain)


def activity(on: date, costs: str) -> Subject:
    return Subject(contribution_id=uuid4(), kind="other_activity", placement_id=None, first=on, last=on,
                   explain=lambda start, end: explain_other_activity(
                       costs_eur=Decimal(costs), hours=None, hourly_rate_eur=None, rule_set="utrecht-2024",
                       amount_eur=Decimal(costs)))


def test_a_term_reports_per_calendar_year_or_quarter_cut_by_the_term() -> None:
    assert reporting_periods(date(2025, 2, 1), date(2026, 3, 15), "year") == [
        (date(2025, 2, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 3, 15))]
    assert reporting_periods(date(2025, 2, 1), date(2025, 8, 10), "quarter") == [
        (date(2025, 2, 1), date(2025, 3, 31)), (date(2025, 4, 1), date(2025, 6, 30)),
        (date(2025, 7, 1), date(2025, 8, 10))]


def test_a_period_must_lie_in_the_term_and_overlap_no_other_statement() -> None:
    taken = [YEAR_2025]
    with pytest.raises(InvalidValue) as before_term:
        check_period(date(2024, 12, 1), date(2025, 1, 31), *TERM, [])
    with pytest.raises(InvalidValue) as overlap:
        check_period(date(2025, 12, 1), date(2026, 1, 31), *TERM, taken)
    with pytest.raises(InvalidValue) as backwards:
        check_period(date(2026, 2, 1), date(2026, 1, 31), *TERM, taken)
    assert (before_term.value.field, overlap.value.field, backwards.value.field) == (
        "period_start", "period_start", "period_end")
    assert check_period(*YEAR_2026, *TERM, taken) == YEAR_2026


def test_lines_are_frozen_at_submission_and_a_line_is_decided_once() -> None:
    full_time = placement([(date(2025, 1, 1), "36")])
    purchase = activity(date(2025, 5, 1), "1000")
    statement = Statement.prepare(uuid4(), YEAR_2025, TERM[1], date(2026, 1, 5))
    with pytest.raises(StatementNotSubmitted):
        statement.decide([{"line_id": "L1", "decision": "accepted"}], date(2026, 1, 6))

    statement.submit(lines_for(TERM, YEAR_2025, [full_time, purchase]), date(2026, 1, 6))

    assert [(line["line_id"], line["value_eur"]) for line in statement.lines] == [
        ("L1", Decimal("50000")), ("L2", Decimal("1000"))]
    assert statement.lines[0]["days"] == 365
    assert statement.lines[0]["explanation"]["block"]["eur_per_year"] == "50000"
    with pytest.raises(StatementNotDraft):
        statement.submit([], date(2026, 1, 7))
    with pytest.raises(InvalidValue) as no_reason:
        statement.decide([{"line_id": "L2", "decision": "rejected", "reason": " "}], date(2026, 2, 1))
    assert no_reason.value.field == "reason"
    statement.decide([{"line_id": "L1", "decision": "accepted"}], date(2026, 2, 1))
    assert statement.status == "submitted" and not statement.locked
    with pytest.raises(LineAlreadyDecided):
        statement.decide([{"line_id": "L1", "decision": "rejected", "reason": "toch niet"}], date(2026, 2, 2))
    statement.decide([{"line_id": "L2", "decision": "rejected", "reason": "geen factuur"}], date(2026, 2, 2))
    assert statement.status == "decided" and statement.locked
    assert accepted_total([statement]) == Decimal("50000")


def test_a_backdated_change_to_a_submitted_period_is_a_correction_in_the_next_draft() -> None:
    before = placement([(date(2025, 1, 1), "18")])
    locked = Statement.prepare(uuid4(), YEAR_2025, TERM[1], date(2026, 1, 5))
    locked.submit(lines_for(TERM, YEAR_2025, [before]), date(2026, 1, 6))
    locked.decide([{"line_id": "L1", "decision": "accepted"}], date(2026, 1, 7))
    # Backdated: full time from 2025-07-01 (the same contribution).
    after = placement([(date(2025, 1, 1), "18"), (date(2025, 7, 1), "36")],
                      contribution_id=before.contribution_id)
    draft = Statement.prepare(uuid4(), YEAR_2026, TERM[1], date(2026, 3, 1))

    def now(period: tuple[date, date]) -> dict:
        return current_values(TERM, period, [after])

    (correction,) = corrections_for(draft, [locked, draft], now)
    assert correction["kind"] == "correction"
    assert correction["old_value_eur"] == Decimal("25000")
    # 181 days at 18 hours, 184 at 36: 12,397.26... + 25,205.47...
    assert correction["new_value_eur"].quantize(Decimal("0.01")) == Decimal("37602.74")
    assert correction["value_eur"] == correction["new_value_eur"] - correction["old_value_eur"]
    assert correction["corrects"]["statement_id"] == locked.id and correction["corrects"]["line_id"] == "L1"
    assert accepted_total([locked]) == Decimal("25000")  # nobody decided again: unchanged

    draft.submit(lines_for(TERM, YEAR_2026, [after]) + [correction], date(2027, 1, 5))
    assert corrections_for(Statement.prepare(uuid4(), (date(2026, 12, 1), date(2026, 12, 31)), TERM[1],
                                             date(2027, 1, 6)), [locked, draft], now) == []
    draft.decide([{"line_id": line["line_id"], "decision": "accepted"} for line in draft.lines], date(2027, 2, 1))
    assert accepted_total([locked, draft]) == Decimal("25000") + correction["value_eur"] + Decimal("50000")


def test_a_placement_below_the_minimum_hours_says_so_in_its_line() -> None:
    short = placement([(date(2025, 1, 1), "8")], rules=shipped_rules("harlingen-2024"))
    (line,) = lines_for(TERM, YEAR_2025, [short])
    assert line["value_eur"] == 0
    assert line["explanation"]["zero_code"] == "below_minimum_hours"
    assert line["explanation"]["days"]["below_minimum_hours"] == 365

"""The legal employer's duties for a placement, and reminders of them.

The agency employs the people it seconds, so it carries the employer's
duties (see shared/domain.md):

- Sickness (Wet verbetering poortwachter), counted from the first sick day.
  "By week N" means by the last day of week N, where week 1 is the first
  sick day and the six days after it:

      due_on = first_sick_day + (7 x N - 1) days

  So a first sick day on Monday 2 March 2026 gives: sick report on day 1
  (2 March), company doctor informed by week 1 (8 March), problem analysis
  by week 6 (12 April), plan of action by week 8 (26 April), a review of the
  plan every 6 weeks after that (weeks 14, 20, ..., 98), report to UWV by
  week 42 (20 December), first-year evaluation by week 52 (28 February
  2027), WIA application by week 91 (28 November 2027) and the end of wage
  payment at week 104 (27 February 2028). If no return to work is in view
  at the first-year evaluation, the second track (work with another
  employer) starts within 6 weeks of it: by week 58.
- Spells less than 4 weeks apart count as one (art. 7:629 lid 10 BW,
  "samentellen"): a sickness reported less than 28 days after the last
  recovery continues that timeline. The weeks count sick days only, so the
  timeline is counted from the earlier first sick day moved on by the days
  in between (`counted_from`); the new spell gets its own sick report and
  company-doctor notice, and the timeline's duties still ahead of it.
- From the placement's start: request the target-group declaration
  (wage-cost benefit, LKV) and the no-risk policy within 3 months:
  due on the start plus 3 calendar months less one day (clamped to the end
  of a shorter month), e.g. start 1 February -> 30 April.
- The planned end date: decide on extending or ending by then.
- A job coach (UWV) is possible for a contract of at least 12 hours a week
  and at least 6 months; that is a flag on the placement, not a duty.

Only dates are recorded about sickness, never a reason or diagnosis.

`PlacementDuties` (one per placement, id derived from it) records sickness
spells and which duties were done; `Reminder` (one per duty and due date, id
derived from both) records that a reminder went out, so a reminder job can
run any number of times and remind once.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DomainError, InvalidValue
from domain.values import require_date, require_id

# Fixed for good: duty, duties and reminder ids are derived from it.
DUTY_NAMESPACE = UUID("0c5f3a1e-8d2b-4f6a-9e7c-3b1d5a9f2e64")

# kind -> (week, what) for the sickness duties; week 0 means day 1.
POORTWACHTER: dict[str, tuple[int, str]] = {
    "sick_report": (0, "sick report (day 1)"),
    "company_doctor_informed": (1, "occupational health service informed"),
    "problem_analysis": (6, "problem analysis by the company doctor"),
    "plan_of_action": (8, "plan of action"),
    "plan_review": (0, "plan of action reviewed (every 6 weeks)"),
    "uwv_report": (42, "report to UWV"),
    "first_year_evaluation": (52, "first-year evaluation"),
    "wia_application": (91, "WIA application"),
    "wage_payment_ends": (104, "end of wage payment"),
    "second_track": (58, "second track started if no return is in view"),
}
PLAN_REVIEW_EVERY_WEEKS = 6
# A new sickness starting less than this many days after the last recovery
# continues the earlier spell's timeline (art. 7:629 lid 10 BW).
SPELLS_APART_DAYS = 28
# Duties of each report; the rest belong to the (possibly continued) timeline.
PER_REPORT_KINDS = ("sick_report", "company_doctor_informed")
SICKNESS_KINDS = frozenset(POORTWACHTER)
PLACEMENT_KINDS = {
    "target_group_declaration": "request the target-group declaration (wage-cost benefit)",
    "no_risk_policy": "request the no-risk policy",
    "planned_end": "planned end: extend or end the placement",
}
DUTY_LABELS = {**{k: v[1] for k, v in POORTWACHTER.items()}, **PLACEMENT_KINDS}
REQUEST_WITHIN_MONTHS = 3
JOB_COACH_MIN_HOURS = Decimal(12)
JOB_COACH_MIN_MONTHS = 6


# -- errors ---------------------------------------------------------------------
class RecoveryBeforeSickness(DomainError):
    default_field = "recovered_on"


class SicknessAlreadyOpen(DomainError):
    """A second sickness report while one is open: report recovery first."""

    is_state_conflict = True
    default_field = "first_sick_day"


class NoOpenSickness(DomainError):
    is_state_conflict = True
    default_field = "recovered_on"


class UnknownDuty(DomainError):
    default_field = "duty_id"


class DutyAlreadyDone(DomainError):
    is_state_conflict = True


class ReminderAlreadyRecorded(DomainError):
    is_state_conflict = True


# -- dates ------------------------------------------------------------------------
def by_week(first_day: date, week: int) -> date:
    """The last day of week `week`, counting the first day as day 1 of week 1."""
    return first_day + timedelta(days=7 * week - 1)


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def within_months(start: date, months: int) -> date:
    """The last day of a period of `months` calendar months from `start`."""
    return add_months(start, months) - timedelta(days=1)


@dataclass(frozen=True)
class Duty:
    kind: str
    due_on: date

    @property
    def label(self) -> str:
        return DUTY_LABELS[self.kind]


def poortwachter_deadlines(first_sick_day: date, counted_from: date | None = None) -> list[Duty]:
    """The Wet verbetering poortwachter duties of one sickness, by due date.

    `counted_from`: the day the timeline's weeks count from when this
    sickness continues an earlier one (see `counted_from`); then only the
    timeline's duties due on or after this first sick day are its own."""
    counted = counted_from or first_sick_day
    duties = [Duty("sick_report", first_sick_day),
              Duty("company_doctor_informed", by_week(first_sick_day, POORTWACHTER["company_doctor_informed"][0]))]
    timeline = [Duty(kind, by_week(counted, POORTWACHTER[kind][0]))
                for kind in ("problem_analysis", "plan_of_action", "uwv_report", "first_year_evaluation",
                             "second_track", "wia_application", "wage_payment_ends")]
    plan, end = POORTWACHTER["plan_of_action"][0], POORTWACHTER["wage_payment_ends"][0]
    for week in range(plan + PLAN_REVIEW_EVERY_WEEKS, end, PLAN_REVIEW_EVERY_WEEKS):
        timeline.append(Duty("plan_review", by_week(counted, week)))
    duties += [d for d in timeline if d.due_on >= first_sick_day]
    return sorted(duties, key=lambda d: (d.due_on, d.kind))


def counted_from(spells: list[dict[str, Any]], first_sick_day: date) -> date:
    """The day a new sickness's poortwachter weeks count from, after `spells`
    (each {"first_sick_day", "recovered_on", "counted_from"?}): the day itself,
    or, when it starts less than 4 weeks after the last recovery, the last
    timeline's day moved on by the days in between (those are not sick days)."""
    if not spells or spells[-1]["recovered_on"] is None:
        return first_sick_day
    last = spells[-1]
    apart = (first_sick_day - last["recovered_on"]).days
    if apart >= SPELLS_APART_DAYS:
        return first_sick_day
    return (last.get("counted_from") or last["first_sick_day"]) + timedelta(days=apart)


def placement_deadlines(starts_on: date, planned_end_on: date | None) -> list[Duty]:
    """Duties from the placement's start, and its planned end."""
    request_by = within_months(starts_on, REQUEST_WITHIN_MONTHS)
    duties = [Duty("target_group_declaration", request_by), Duty("no_risk_policy", request_by)]
    if planned_end_on is not None:
        duties.append(Duty("planned_end", planned_end_on))
    return duties


def job_coach(hours_per_week: Decimal, starts_on: date, planned_end_on: date | None) -> dict[str, Any]:
    """Whether UWV's job coach conditions hold: at least 12 h a week and a
    contract of at least 6 months (open-ended counts), with the reasons."""
    reasons = []
    hours_ok = hours_per_week >= JOB_COACH_MIN_HOURS
    reasons.append(f"{hours_per_week.normalize():f} h a week {'>=' if hours_ok else '<'} {JOB_COACH_MIN_HOURS}")
    if planned_end_on is None:
        months_ok = True
        reasons.append("no planned end")
    else:
        months_ok = planned_end_on >= within_months(starts_on, JOB_COACH_MIN_MONTHS)
        reasons.append(f"planned until {planned_end_on.isoformat()}: "
                       f"{'at least' if months_ok else 'less than'} {JOB_COACH_MIN_MONTHS} months")
    return {"eligible": hours_ok and months_ok, "reasons": reasons}


def duty_id(placement_id: UUID, duty: Duty, sickness_starts_on: date | None = None) -> UUID:
    spell = sickness_starts_on.isoformat() if sickness_starts_on else ""
    return uuid5(DUTY_NAMESPACE, f"duty|{placement_id}|{duty.kind}|{spell}|{duty.due_on.isoformat()}")


@dataclass(frozen=True)
class PlacementDuty:
    id: UUID
    placement_id: UUID
    kind: str
    due_on: date
    sickness_starts_on: date | None = None


def duties_for(placement_id: UUID, starts_on: date, planned_end_on: date | None,
               sicknesses: list[date] | list[tuple[date, date]]) -> list[PlacementDuty]:
    """Every duty of a placement: from its start, its planned end and each
    sickness (a first sick day, or (first sick day, counted from))."""
    out = [PlacementDuty(duty_id(placement_id, d), placement_id, d.kind, d.due_on)
           for d in placement_deadlines(starts_on, planned_end_on)]
    for item in sicknesses:
        first, counted = item if isinstance(item, tuple) else (item, item)
        out += [PlacementDuty(duty_id(placement_id, d, first), placement_id, d.kind, d.due_on, first)
                for d in poortwachter_deadlines(first, counted)]
    return out


# -- aggregates -----------------------------------------------------------------------
def _not_future(day: date, today: date, field: str) -> date:
    if day > today:
        raise InvalidValue("{name} must not be in the future", field, name=field)
    return day


class PlacementDuties(LedgerAggregate):
    """Sickness spells of one placement and which of its duties were done."""

    @staticmethod
    def create_id(placement_id: UUID) -> UUID:
        return PlacementDuties.id_for(placement_id)

    @staticmethod
    def id_for(placement_id: UUID) -> UUID:
        return uuid5(DUTY_NAMESPACE, f"duties|{placement_id}")

    @classmethod
    def open(cls, placement_id: UUID) -> PlacementDuties:
        return cls(placement_id=require_id(placement_id, "placement_id"))

    @event("PlacementDutiesOpened")
    def __init__(self, placement_id: UUID) -> None:
        self.placement_id = placement_id
        self.spells: list[dict[str, Any]] = []  # {"first_sick_day", "recovered_on"}
        self.done: dict[UUID, date] = {}

    @property
    def open_spell(self) -> dict[str, Any] | None:
        if self.spells and self.spells[-1]["recovered_on"] is None:
            return self.spells[-1]
        return None

    @property
    def sickness_starts(self) -> list[date]:
        return [s["first_sick_day"] for s in self.spells]

    @property
    def timelines(self) -> list[tuple[date, date]]:
        """(first sick day, the day its poortwachter weeks count from) per sickness."""
        return [(s["first_sick_day"], s.get("counted_from") or s["first_sick_day"]) for s in self.spells]

    def report_sickness(self, first_sick_day: date, placement_starts_on: date,
                        placement_ended_on: date | None, today: date | None = None) -> None:
        first = _not_future(require_date(first_sick_day, "first_sick_day"), today or date.today(),
                            "first_sick_day")
        if first < placement_starts_on:
            raise InvalidValue("first_sick_day must not be before the placement starts ({day})", "first_sick_day",
                               day=placement_starts_on)
        if placement_ended_on is not None and first > placement_ended_on:
            raise InvalidValue("first_sick_day must not be after the placement ended ({day})", "first_sick_day",
                               day=placement_ended_on)
        spell = self.open_spell
        if spell is not None:
            raise SicknessAlreadyOpen(
                "a sickness since {day} is still open: report the recovery first", day=spell["first_sick_day"])
        if self.spells and first < self.spells[-1]["recovered_on"]:
            raise InvalidValue("first_sick_day must not be before the last recovery ({day})", "first_sick_day",
                               day=self.spells[-1]["recovered_on"])
        self._sickness_reported(placement_id=self.placement_id, first_sick_day=first,
                                counted_from=counted_from(self.spells, first))

    @event("SicknessReported")
    def _sickness_reported(self, placement_id: UUID, first_sick_day: date, counted_from: date | None = None) -> None:
        # counted_from is None in events recorded before spells were counted together.
        self.spells = [*self.spells, {"first_sick_day": first_sick_day, "recovered_on": None,
                                      "counted_from": counted_from or first_sick_day}]

    def recover(self, recovered_on: date, today: date | None = None) -> None:
        on = _not_future(require_date(recovered_on, "recovered_on"), today or date.today(), "recovered_on")
        spell = self.open_spell
        if spell is None:
            raise NoOpenSickness("there is no open sickness to recover from")
        if on < spell["first_sick_day"]:
            raise RecoveryBeforeSickness(
                "recovered_on must not be before the first sick day ({day})", day=spell["first_sick_day"])
        self._recovered(placement_id=self.placement_id, first_sick_day=spell["first_sick_day"], recovered_on=on)

    @event("Recovered")
    def _recovered(self, placement_id: UUID, first_sick_day: date, recovered_on: date) -> None:
        self.spells = [*self.spells[:-1], {**self.spells[-1], "recovered_on": recovered_on}]

    def complete(self, duty: PlacementDuty | None, done_on: date, today: date | None = None) -> None:
        """`duty`: the placement's duty with the asked id (None: it has none)."""
        if duty is None or duty.placement_id != self.placement_id:
            raise UnknownDuty("this placement has no such duty")
        on = _not_future(require_date(done_on, "done_on"), today or date.today(), "done_on")
        if duty.id in self.done:
            raise DutyAlreadyDone("this duty was done on {day}", day=self.done[duty.id])
        self._duty_completed(placement_id=self.placement_id, duty_id=duty.id, kind=duty.kind,
                             due_on=duty.due_on, done_on=on)

    @event("DutyCompleted")
    def _duty_completed(self, placement_id: UUID, duty_id: UUID, kind: str, due_on: date, done_on: date) -> None:
        self.done = {**self.done, duty_id: done_on}


class Reminder(LedgerAggregate):
    """That a duty coming due (or overdue) was brought to the agency's attention."""

    @staticmethod
    def create_id(duty_id: UUID, due_on: date) -> UUID:
        return Reminder.id_for(duty_id, due_on)

    @staticmethod
    def id_for(duty_id: UUID, due_on: date) -> UUID:
        return uuid5(DUTY_NAMESPACE, f"reminder|{duty_id}|{due_on.isoformat()}")

    @classmethod
    def record(cls, duty_id: UUID, due_on: date, placement_id: UUID, kind: str, reminded_on: date,
               addressed_to: UUID | None = None) -> Reminder:
        """`addressed_to`: the agency user responsible for the placement when
        the reminder was recorded; None: the whole agency."""
        if kind not in DUTY_LABELS:
            raise InvalidValue("kind must be one of: {choices}", "kind", choices=", ".join(DUTY_LABELS))
        return cls(duty_id=require_id(duty_id, "duty_id"), due_on=require_date(due_on, "due_on"),
                   placement_id=require_id(placement_id, "placement_id"), kind=kind,
                   reminded_on=require_date(reminded_on, "reminded_on"),
                   addressed_to=None if addressed_to is None else require_id(addressed_to, "addressed_to"))

    @event("ReminderRecorded")
    def __init__(self, duty_id: UUID, due_on: date, placement_id: UUID, kind: str, reminded_on: date,
                 addressed_to: UUID | None = None) -> None:
        self.duty_id, self.due_on, self.placement_id = duty_id, due_on, placement_id
        self.kind, self.reminded_on, self.addressed_to = kind, reminded_on, addressed_to
        self.mailed_on: date | None = None

    def mailed(self, on: date, recipients: int) -> None:
        if self.mailed_on is not None:
            raise ReminderAlreadyRecorded("this reminder was mailed on {day}", day=self.mailed_on)
        self._mailed(on=require_date(on, "on"), recipients=recipients)

    @event("ReminderMailed")
    def _mailed(self, on: date, recipients: int) -> None:
        self.mailed_on = on

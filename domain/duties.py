"""The legal employer's duties for an employment, and reminders of them.

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
  2027), the re-integration report (RIV) handed to the employee by week 91
  (28 November 2027), the employee's WIA application by week 93 (12
  December 2027: the employee applies; the agency's duty is to check and
  support it) and the end of wage payment at week 104 (27 February 2028).
  If no return to work is in view at the first-year evaluation, the second
  track (work with another employer) starts within 6 weeks of it: by week 58.
- Spells less than 4 weeks apart count as one (art. 7:629 lid 10 BW,
  "samentellen"): a sickness reported less than 28 days after the last
  recovery continues that timeline. The weeks count sick days only, so the
  timeline is counted from the earlier first sick day moved on by the days
  in between (`counted_from`); the new spell gets its own sick report and
  company-doctor notice (and no-risk report), and the timeline's duties
  still ahead of it.
- No-risk policy: there is no advance application. A worker covered by it
  (NO_RISK_BY_GROUP: structural for the doelgroepregister and Wajong, 5
  years from the start of employment for wia_wao) who is reported sick gets
  the duty to report the sickness to UWV within 6 weeks: by week 6 of that
  report (first sick day 2 March 2026 -> 12 April 2026). Whether the first
  sick day is covered decides.
- Wage-cost benefit (LKV): the target-group declaration is requested within
  3 months of the start of employment (the start plus 3 calendar months
  less one day, clamped to the end of a shorter month: 1 February -> 30
  April), only for the LKV groups (LKV_BY_GROUP: doelgroepregister and
  Wajong -> banenafspraak, wia_wao -> occupationally disabled;
  participatiewet and ww -> 56 or older on benefit when 56 or older on the
  first day), and not for someone the agency employed in the 6 months
  before. The employment is the person's `Employment` (domain/employment.py)
  or, for a placement started without one, the placement itself; the
  6-month rule is judged by the duties read model on the agency's earlier
  employments of the same candidate (one that ran on or after the day 6
  calendar months before the start, or still runs); the ledger, which sees
  one employment at a time, lists the declaration by group alone (the
  pages and the API offer only the read model's duties).
- The planned end date: decide on extending or ending by then.
- Sick out of service (ziek-uit-dienst-melding): when the employment ends
  while a sickness is open (sick on the last day; the recovery day is a day
  at work), the agency reports it to UWV on the last day of employment: a
  duty due that day, part of that sickness (a recovery reported later that
  falls on or before the last day closes it). A secondment ending while
  its employment runs is no end of employment.
- A job coach (UWV) is possible for a contract of at least 12 hours a week
  and at least 6 months; that is a flag on the placement, not a duty.

The groups are judged from the candidate's target group and date of birth
when the placement starts (`judge_schemes`) and recorded on
`PlacementDutiesOpened` (stored with `PlacementStarted`), sealed under the
candidate's key: erasing the person leaves no scheme, so no declaration and
no no-risk report. Stored histories from before:
- a placement without judged schemes (its duties record opened later, or
  never) keeps the declaration listed (whether the person qualified was the
  agency's judgement, marked by completing it) and has no no-risk report;
- the retired `no_risk_policy` request (RETIRED_KINDS) is no duty any more:
  one done stays listed as done (labelled "no longer required"), an open
  one is not listed, and no reminder is recorded for it again (reminders
  recorded before keep their label);
- the week-91 duty stored as `wia_application` is the re-integration report:
  `reintegration_report` keeps its id (ID_KIND), so it stays done and
  reminded; the week-93 check is new.

Only dates are recorded about sickness, never a reason or diagnosis.

`PlacementDuties` (one per employment, id derived from it; its
`placement_id` names the employment, which is the placement itself when the
placement has no explicit employment, as every placement stored before
employments were recorded) records sickness spells and which duties were done; `Reminder` (one per duty and due date, id
derived from both) records that a reminder went out, so a reminder job can
run any number of times and remind once.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.base import LedgerAggregate
from domain.errors import DomainError, InvalidValue
from domain.ids import name_id
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
    "no_risk_report": (6, "no-risk: sickness reported to UWV (covered worker)"),
    "reintegration_report": (91, "re-integration report (RIV) handed to the employee"),
    "wia_application_check": (93, "employee's WIA application: checked and supported"),
    "wage_payment_ends": (104, "end of wage payment"),
    "second_track": (58, "second track started if no return is in view"),
}
PLAN_REVIEW_EVERY_WEEKS = 6
# A new sickness starting less than this many days after the last recovery
# continues the earlier spell's timeline (art. 7:629 lid 10 BW).
SPELLS_APART_DAYS = 28
# Duties of each report; the rest belong to the (possibly continued) timeline.
PER_REPORT_KINDS = ("sick_report", "company_doctor_informed", "no_risk_report")
SICKNESS_KINDS = frozenset(POORTWACHTER)
PLACEMENT_KINDS = {
    "target_group_declaration": "request the target-group declaration (wage-cost benefit)",
    "planned_end": "planned end: extend or end the placement",
    "sick_out_of_service": "sick out of service reported to UWV (ziek-uit-dienst-melding)",
}
DUTY_LABELS = {**{k: v[1] for k, v in POORTWACHTER.items()}, **PLACEMENT_KINDS}
# Kinds that are no duty any more but may be named by stored events
# (DutyCompleted, ReminderRecorded): shown with these labels, never raised.
RETIRED_KINDS = {
    "no_risk_policy": "no-risk policy requested (no longer required: there is no advance application)",
    "wia_application": "re-integration report (RIV) handed to the employee",
}
KIND_LABELS = {**DUTY_LABELS, **RETIRED_KINDS}
# A duty's id is derived from its kind; a kind renamed keeps the id of the
# duty it replaces, so what was stored about that duty (done, reminded) holds.
ID_KIND = {"reintegration_report": "wia_application"}
REQUEST_WITHIN_MONTHS = 3

# -- who the support schemes cover (shared/domain.md, "Support schemes") -----------
# Wage-cost benefit (LKV), per target group of domain/values.TARGET_GROUPS:
# - banenafspraak: the doelgroepregister (UWV) itself, and Wajong (a disability
#   from before 18 or during study: the register's people, domain.md "Target
#   groups");
# - occupationally disabled (arbeidsgehandicapte werknemer): wia_wao;
# - 56 or older on benefit: participatiewet and ww, when the person is 56 or
#   older on the first day of employment (the other benefit groups qualify anyway).
# No other group (vso_pro_mbo1, bbl, bol, no_benefit) has an LKV.
LKV_SCHEMES = {
    "banenafspraak": "banenafspraak (EUR 1.01/h, up to EUR 2,000 a year, 3 years)",
    "occupationally_disabled": "occupationally disabled (EUR 3.05/h, up to EUR 6,000 a year, 3 years)",
    "older_on_benefit": "56 or older on benefit (EUR 3.05/h, up to EUR 6,000 a year, 3 years)",
}
LKV_BY_GROUP = {"doelgroepregister": "banenafspraak", "wajong": "banenafspraak",
                "wia_wao": "occupationally_disabled"}
LKV_OLDER_GROUPS = frozenset({"participatiewet", "ww"})
LKV_OLDER_AGE = 56
# Not for someone employed by the same (legal) employer in the previous 6 months.
LKV_NOT_EMPLOYED_MONTHS = 6
# No-risk policy (UWV pays sickness benefit): structural for the doelgroepregister
# and Wajong; 5 years from the start of employment for wia_wao (the source says
# "structural for some groups, otherwise 5 years"; it names no other group).
NO_RISK_BY_GROUP = {"doelgroepregister": "structural", "wajong": "structural", "wia_wao": "five_years"}
NO_RISK_YEARS = 5
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


def poortwachter_deadlines(first_sick_day: date, counted_from: date | None = None,
                           no_risk: bool = False) -> list[Duty]:
    """The Wet verbetering poortwachter duties of one sickness, by due date.

    `counted_from`: the day the timeline's weeks count from when this
    sickness continues an earlier one (see `counted_from`); then only the
    timeline's duties due on or after this first sick day are its own.
    `no_risk`: the worker is covered by the no-risk policy on the first sick
    day, so the sickness is reported to UWV within 6 weeks of it."""
    counted = counted_from or first_sick_day
    duties = [Duty("sick_report", first_sick_day),
              Duty("company_doctor_informed", by_week(first_sick_day, POORTWACHTER["company_doctor_informed"][0]))]
    if no_risk:
        duties.append(Duty("no_risk_report", by_week(first_sick_day, POORTWACHTER["no_risk_report"][0])))
    timeline = [Duty(kind, by_week(counted, POORTWACHTER[kind][0]))
                for kind in ("problem_analysis", "plan_of_action", "uwv_report", "first_year_evaluation",
                             "second_track", "reintegration_report", "wia_application_check",
                             "wage_payment_ends")]
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


@dataclass(frozen=True)
class Schemes:
    """Which support schemes cover the person in this employment, judged when
    it starts (`lkv`: a key of LKV_SCHEMES or None; `no_risk`: "structural",
    "five_years" or None; `no_risk_until`: the last covered day, None when
    structural or not covered)."""
    lkv: str | None = None
    no_risk: str | None = None
    no_risk_until: date | None = None

    def no_risk_covers(self, day: date) -> bool:
        if self.no_risk is None:
            return False
        return self.no_risk_until is None or day <= self.no_risk_until


def judge_schemes(target_group: str | None, date_of_birth: date | None, employment_starts_on: date) -> Schemes:
    """The LKV and no-risk coverage of a person of `target_group` whose
    employment starts on `employment_starts_on` (see LKV_BY_GROUP and
    NO_RISK_BY_GROUP for the mapping and its source). The 6-month rule is not
    judged here: see `employed_before`."""
    lkv = LKV_BY_GROUP.get(target_group or "")
    if lkv is None and target_group in LKV_OLDER_GROUPS and date_of_birth is not None:
        age = employment_starts_on.year - date_of_birth.year - (
            (employment_starts_on.month, employment_starts_on.day) < (date_of_birth.month, date_of_birth.day))
        if age >= LKV_OLDER_AGE:
            lkv = "older_on_benefit"
    no_risk = NO_RISK_BY_GROUP.get(target_group or "")
    until = add_months(employment_starts_on, 12 * NO_RISK_YEARS) - timedelta(days=1) \
        if no_risk == "five_years" else None
    return Schemes(lkv=lkv, no_risk=no_risk, no_risk_until=until)


def employed_before(starts_on: date, earlier: list[tuple[date, date | None]]) -> bool:
    """Whether the agency employed the person in the 6 months before
    `starts_on`, judged on its earlier employments (starts_on, ended_on or
    None while running): one that started before and ended on or after the
    day 6 calendar months before the start, or still runs."""
    since = add_months(starts_on, -LKV_NOT_EMPLOYED_MONTHS)
    return any(start < starts_on and (ended is None or ended >= since) for start, ended in earlier)


def placement_deadlines(starts_on: date, planned_end_on: date | None, lkv: bool = True) -> list[Duty]:
    """Duties from the placement's start, and its planned end. `lkv`: the
    person qualifies for the wage-cost benefit (see `judge_schemes`), so the
    target-group declaration is requested within 3 months of the start."""
    request_by = within_months(starts_on, REQUEST_WITHIN_MONTHS)
    duties = [Duty("target_group_declaration", request_by)] if lkv else []
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
    kind = ID_KIND.get(duty.kind, duty.kind)
    return name_id(DUTY_NAMESPACE, f"duty|{placement_id}|{kind}|{spell}|{duty.due_on.isoformat()}")


@dataclass(frozen=True)
class PlacementDuty:
    id: UUID
    placement_id: UUID
    kind: str
    due_on: date
    sickness_starts_on: date | None = None


def duties_for(placement_id: UUID, starts_on: date, planned_end_on: date | None,
               sicknesses: list[date] | list[tuple[date, date]],
               schemes: Schemes | None = None, ended_on: date | None = None,
               sick_at_end: date | None = None) -> list[PlacementDuty]:
    """Every duty of a placement: from its start, its planned end and each
    sickness (a first sick day, or (first sick day, counted from)).
    `schemes`: as judged at the start; None for a placement started before
    they were judged (the declaration is listed, no no-risk report).
    `ended_on`, `sick_at_end`: the employment ended on that day while the
    sickness that began on `sick_at_end` was open: "sick out of service" is
    reported to UWV on the last day of employment."""
    lkv = schemes is None or schemes.lkv is not None
    out = [PlacementDuty(duty_id(placement_id, d), placement_id, d.kind, d.due_on)
           for d in placement_deadlines(starts_on, planned_end_on, lkv=lkv)]
    for item in sicknesses:
        first, counted = item if isinstance(item, tuple) else (item, item)
        covered = schemes is not None and schemes.no_risk_covers(first)
        out += [PlacementDuty(duty_id(placement_id, d, first), placement_id, d.kind, d.due_on, first)
                for d in poortwachter_deadlines(first, counted, no_risk=covered)]
    if ended_on is not None and sick_at_end is not None:
        out.append(sick_out_of_service(placement_id, ended_on, sick_at_end))
    return out


def sick_out_of_service(placement_id: UUID, last_day: date, first_sick_day: date) -> PlacementDuty:
    """The ziek-uit-dienst-melding: due on the last day of employment, part of
    the sickness open on that day."""
    duty = Duty("sick_out_of_service", last_day)
    return PlacementDuty(duty_id(placement_id, duty, first_sick_day), placement_id, duty.kind, duty.due_on,
                         first_sick_day)


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
        return name_id(DUTY_NAMESPACE, f"duties|{placement_id}")

    @classmethod
    def open(cls, placement_id: UUID, candidate_id: UUID | None = None, schemes: Schemes | None = None,
             judged_on: date | None = None) -> PlacementDuties:
        """Opened when the placement starts, with the schemes judged then
        (`schemes`, `judged_on`, sealed under the candidate's key: they tell
        the person's target group); a placement from before opens it on first
        use without them."""
        if schemes is None:
            return cls(placement_id=require_id(placement_id, "placement_id"))
        if schemes.lkv is not None and schemes.lkv not in LKV_SCHEMES:
            raise InvalidValue("lkv must be one of: {choices}", "lkv", choices=", ".join(LKV_SCHEMES))
        return cls(placement_id=require_id(placement_id, "placement_id"),
                   candidate_id=require_id(candidate_id, "candidate_id"),
                   judged_on=require_date(judged_on, "judged_on"), lkv_scheme=schemes.lkv,
                   no_risk_scheme=schemes.no_risk, no_risk_until=schemes.no_risk_until)

    @event("PlacementDutiesOpened")
    def __init__(self, placement_id: UUID, candidate_id: UUID | None = None, judged_on: date | None = None,
                 lkv_scheme: str | None = None, no_risk_scheme: str | None = None,
                 no_risk_until: date | None = None) -> None:
        # Opened before schemes were judged: no candidate_id, no judged_on.
        self.placement_id = placement_id
        self.spells: list[dict[str, Any]] = []  # {"first_sick_day", "recovered_on"}
        self.done: dict[UUID, date] = {}
        self.schemes: Schemes | None = None if judged_on is None else Schemes(
            lkv=lkv_scheme, no_risk=no_risk_scheme, no_risk_until=no_risk_until)

    @property
    def open_spell(self) -> dict[str, Any] | None:
        if self.spells and self.spells[-1]["recovered_on"] is None:
            return self.spells[-1]
        return None

    @property
    def sickness_starts(self) -> list[date]:
        return [s["first_sick_day"] for s in self.spells]

    def sick_on(self, day: date | None) -> date | None:
        """The first sick day of the sickness open on `day` (the recovery day
        is a day at work again), or None."""
        if day is None:
            return None
        for s in self.spells:
            if s["first_sick_day"] <= day and (s["recovered_on"] is None or s["recovered_on"] > day):
                return s["first_sick_day"]
        return None

    @property
    def timelines(self) -> list[tuple[date, date]]:
        """(first sick day, the day its poortwachter weeks count from) per sickness."""
        return [(s["first_sick_day"], s.get("counted_from") or s["first_sick_day"]) for s in self.spells]

    def report_sickness(self, first_sick_day: date, placement_starts_on: date,
                        placement_ended_on: date | None, today: date | None = None,
                        employment: bool = False) -> None:
        """Within the employment's days (`employment`: an explicit one, named
        so in the messages; else the placement that is its own)."""
        first = _not_future(require_date(first_sick_day, "first_sick_day"), today or date.today(),
                            "first_sick_day")
        if employment and first < placement_starts_on:
            raise InvalidValue("first_sick_day must not be before the employment starts ({day})", "first_sick_day",
                               day=placement_starts_on)
        if employment and placement_ended_on is not None and first > placement_ended_on:
            raise InvalidValue("first_sick_day must not be after the employment ended ({day})", "first_sick_day",
                               day=placement_ended_on)
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
        return name_id(DUTY_NAMESPACE, f"reminder|{duty_id}|{due_on.isoformat()}")

    @classmethod
    def record(cls, duty_id: UUID, due_on: date, placement_id: UUID, kind: str, reminded_on: date,
               addressed_to: UUID | None = None) -> Reminder:
        """`addressed_to`: the agency user responsible for the placement when
        the reminder was recorded; None: the whole agency."""
        if kind not in DUTY_LABELS:  # a retired kind is never reminded of again
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

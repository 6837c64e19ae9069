"""The legal employer's duties (the agency's: sickness is health data):
sickness and recovery, duties done, and the reminders recorded for them.

The duties follow the person's employment with the agency: the duties
record (`PlacementDuties`) is the employment's, its `placement_id` naming
the employment, which for a placement without an explicit employment is
the placement itself (so histories from before keep their records and
duty ids)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.duties import (
    PlacementDuties,
    PlacementDuty,
    Reminder,
    ReminderAlreadyRecorded,
    duties_for,
    duty_id,
    placement_deadlines,
)
from domain.employment import Employment
from domain.placement import Placement
from service import commands as c
from service.errors import NotFound
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@dataclass(frozen=True)
class _Employment:
    """What the duties follow: the placement's explicit employment, or the
    placement itself (an implicit employment: same id, start and end)."""
    id: UUID
    candidate_id: UUID
    starts_on: date
    planned_end_on: date | None
    ended_on: date | None
    placement: Placement | None  # the placement that is its own employment


def _employment_of(u: Unit, placement: Placement) -> _Employment:
    if placement.employment_id is None:
        return _Employment(placement.id, placement.candidate_id, placement.starts_on, placement.planned_end_on,
                           placement.ended_on, placement)
    e = u.get(Employment, placement.employment_id)
    # An employment's planned end is no duty: its secondments' planned ends are.
    return _Employment(e.id, e.candidate_id, e.starts_on, None, e.ended_on, None)


def _duties_record(u: Unit, employment: _Employment) -> PlacementDuties:
    """The employment's duties record, opened on first use (its id is derived
    from the employment's, so two first uses at once clash and one retries)."""
    try:
        return u.get(PlacementDuties, PlacementDuties.id_for(employment.id))
    except NotFound:
        return PlacementDuties.open(employment.id)


def _duties_of(employment: _Employment, duties: PlacementDuties,
               secondment: Placement | None = None) -> list[Any]:
    """The employment's duties, and those of the secondment (its planned end)
    when it is not its own employment."""
    found = duties_for(employment.id, employment.starts_on, employment.planned_end_on, duties.timelines,
                       duties.schemes, ended_on=employment.ended_on, sick_at_end=duties.sick_on(employment.ended_on))
    if secondment is not None and secondment.employment_id is not None:
        found += [PlacementDuty(duty_id(secondment.id, d), secondment.id, d.kind, d.due_on)
                  for d in placement_deadlines(secondment.starts_on, secondment.planned_end_on, lkv=False)]
    return found


def _duty_view(d: Any) -> dict[str, Any]:
    return {"id": str(d.id), "kind": d.kind, "due_on": d.due_on.isoformat()}


@handles(c.ReportSickness, roles={"agency"})
def report_sickness(u: Unit, cmd: c.ReportSickness) -> Outcome:
    """Reported through any secondment of the employment: the sickness is the
    employment's, within its days (a secondment that ended while the
    employment runs still takes the report)."""
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    employment = _employment_of(u, placement)
    duties = _duties_record(u, employment)
    duties.report_sickness(cmd.first_sick_day, employment.starts_on, employment.ended_on, today=u.today(),
                           employment=employment.placement is None)
    scheduled = [d for d in _duties_of(employment, duties) if d.sickness_starts_on == cmd.first_sick_day]
    return Outcome(saved=[duties], created=True, body={
        "placement_id": str(placement.id), "first_sick_day": cmd.first_sick_day.isoformat(),
        "duties": [_duty_view(d) for d in scheduled]})


@handles(c.ReportRecovery, roles={"agency"})
def report_recovery(u: Unit, cmd: c.ReportRecovery) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    duties = _duties_record(u, _employment_of(u, placement))
    duties.recover(cmd.recovered_on, today=u.today())
    return Outcome(saved=[duties], created=False, body={
        "placement_id": str(placement.id), "recovered_on": cmd.recovered_on.isoformat()})


@handles(c.CompleteDuty, roles={"agency"})
def complete_duty(u: Unit, cmd: c.CompleteDuty) -> Outcome:
    """`placement_id`: whose duty it is, a placement or an employment (the
    duties read model's `placement_id` of the duty)."""
    try:
        placement: Placement | None = u.get(Placement, cmd.placement_id)
    except NotFound:
        placement = None
    if placement is not None:
        employment = _employment_of(u, placement)
    else:
        e = u.get(Employment, cmd.placement_id)
        employment = _Employment(e.id, e.candidate_id, e.starts_on, None, e.ended_on, None)
    duties = _duties_record(u, employment)
    known = {d.id: d for d in _duties_of(employment, duties, placement)}
    if cmd.duty_id not in known:
        raise NotFound("duty", cmd.duty_id)
    duty = known[cmd.duty_id]
    today = u.today()
    duties.complete(duty, cmd.done_on or today, today=today)
    return Outcome(saved=[duties], created=False,
                   body={**_duty_view(duty), "done_on": duties.done[duty.id].isoformat()})


@handles(c.RecordReminder, roles={"agency"})
def record_reminder(u: Unit, cmd: c.RecordReminder) -> Outcome:
    try:
        u.get(Reminder, Reminder.id_for(cmd.duty_id, cmd.due_on))
    except NotFound:
        return created(Reminder.record(cmd.duty_id, cmd.due_on, cmd.placement_id, cmd.kind, cmd.reminded_on,
                                       cmd.addressed_to))
    raise ReminderAlreadyRecorded("a reminder of this duty and due date was already recorded")


@handles(c.RecordReminderMailed, roles={"agency"})
def record_reminder_mailed(u: Unit, cmd: c.RecordReminderMailed) -> Outcome:
    reminder = u.get(Reminder, cmd.reminder_id)
    reminder.mailed(cmd.mailed_on, cmd.recipients)
    return changed(reminder)

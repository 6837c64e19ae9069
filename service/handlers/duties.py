"""The legal employer's duties for a placement (the agency's: sickness is
health data): sickness and recovery, duties done, and the reminders recorded
for them."""
from __future__ import annotations

from typing import Any

from domain.duties import PlacementDuties, Reminder, ReminderAlreadyRecorded, duties_for
from domain.placement import Placement
from service import commands as c
from service.errors import NotFound
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


def _placement_duties(u: Unit, placement: Placement) -> PlacementDuties:
    """The placement's duties record, opened on first use (its id is derived
    from the placement's, so two first uses at once clash and one retries)."""
    try:
        return u.get(PlacementDuties, PlacementDuties.id_for(placement.id))
    except NotFound:
        return PlacementDuties.open(placement.id)


def _duties_of(placement: Placement, duties: PlacementDuties) -> list[Any]:
    return duties_for(placement.id, placement.starts_on, placement.planned_end_on, duties.timelines,
                      duties.schemes, ended_on=placement.ended_on, sick_at_end=duties.sick_on(placement.ended_on))


def _duty_view(d: Any) -> dict[str, Any]:
    return {"id": str(d.id), "kind": d.kind, "due_on": d.due_on.isoformat()}


@handles(c.ReportSickness, roles={"agency"})
def report_sickness(u: Unit, cmd: c.ReportSickness) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    duties = _placement_duties(u, placement)
    duties.report_sickness(cmd.first_sick_day, placement.starts_on, placement.ended_on, today=u.today())
    scheduled = [d for d in _duties_of(placement, duties) if d.sickness_starts_on == cmd.first_sick_day]
    return Outcome(saved=[duties], created=True, body={
        "placement_id": str(placement.id), "first_sick_day": cmd.first_sick_day.isoformat(),
        "duties": [_duty_view(d) for d in scheduled]})


@handles(c.ReportRecovery, roles={"agency"})
def report_recovery(u: Unit, cmd: c.ReportRecovery) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # health data
    duties = _placement_duties(u, placement)
    duties.recover(cmd.recovered_on, today=u.today())
    return Outcome(saved=[duties], created=False, body={
        "placement_id": str(placement.id), "recovered_on": cmd.recovered_on.isoformat()})


@handles(c.CompleteDuty, roles={"agency"})
def complete_duty(u: Unit, cmd: c.CompleteDuty) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    duties = _placement_duties(u, placement)
    known = {d.id: d for d in _duties_of(placement, duties)}
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

"""The employee's voice (issue 16): the employee's own check-ins at 1, 3, 6
and 12 months and whom they share them with (domain/voice.py).

Only the employee answers, and only on their own placements (visibility:
another person's placement is not found); the agency's coach reads them, the
employer only the scores of an employee who chose `individual`, and figures
from 5 or more people otherwise (projections/voice.py)."""
from __future__ import annotations

from typing import Any

from domain.placement import Placement
from domain.voice import EmployeeVoice
from service import commands as c
from service.errors import NotFound
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit

handles = Handlers()

# Who reads a placement's check-ins (what each sees: web/api/voice_views.py).
VOICE_READERS = frozenset({"agency", "auditor", "employer", "employee"})


def placement_voice(u: Unit, placement_id: Any) -> tuple[Placement, EmployeeVoice]:
    """The visible placement and its check-ins (opened on first use)."""
    placement = u.get(Placement, placement_id)
    refuse_if_erased(u, placement.candidate_id)
    try:
        return placement, u.get(EmployeeVoice, EmployeeVoice.id_for(placement.id))
    except NotFound:
        return placement, EmployeeVoice.open(placement.id, placement.candidate_id, placement.employer_id,
                                             placement.starts_on)


def _done(voice: EmployeeVoice, created: bool = False, **body: Any) -> Outcome:
    return Outcome(saved=[voice], created=created, body={
        "placement_id": str(voice.placement_id), "version": voice.version, **body})


@handles(c.AnswerCheckIn, roles={"employee"})
def answer_check_in(u: Unit, cmd: c.AnswerCheckIn) -> Outcome:
    placement, voice = placement_voice(u, cmd.placement_id)
    voice.answer(cmd.moment, cmd.answers, cmd.remark, placement.ended_on, u.today())
    return _done(voice, True, moment=cmd.moment)


@handles(c.ChooseCheckInSharing, roles={"employee"})
def choose_check_in_sharing(u: Unit, cmd: c.ChooseCheckInSharing) -> Outcome:
    _, voice = placement_voice(u, cmd.placement_id)
    voice.choose_sharing(cmd.sharing, u.today())
    return _done(voice, sharing=voice.sharing)


@handles(c.RecordCheckInReminder, roles={"agency"})
def record_check_in_reminder(u: Unit, cmd: c.RecordCheckInReminder) -> Outcome:
    """The reminders process manager (as the agency): recorded once per moment."""
    placement, voice = placement_voice(u, cmd.placement_id)
    voice.remind(cmd.moment, cmd.reminded_on, placement.ended_on)
    return _done(voice, True, moment=cmd.moment)


def read_voice(ledger: Any, tenant: Any, actor: Any, placement_id: Any
               ) -> tuple[Placement, EmployeeVoice | None, list[dict[str, Any]]]:
    """A visible placement, its check-ins record (None: none yet, or the
    employer may not see it) and the record's history. The contracting
    authority sees none of it (404)."""
    if actor.role not in VOICE_READERS:
        raise NotFound("placement", placement_id)
    placement = ledger.get(tenant, actor, Placement, placement_id)
    try:
        voice, history = ledger.get_with_history(tenant, actor, EmployeeVoice, EmployeeVoice.id_for(placement.id))
    except NotFound:
        return placement, None, []
    return placement, voice, history

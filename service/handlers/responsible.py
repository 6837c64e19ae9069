"""Who looks after a placement: the agency user (consultant, job coach) to
whom the reminders of its duties are addressed.

A placement's responsible user is set when it starts (by default the agency
user who starts it) and handed over with `AssignPlacementResponsible`. Only
an agency user of the same tenant can be responsible: the id is checked
against the platform's accounts (the `Accounts` port, service/ports.py), so
an id from a request cannot name someone of another tenant, an employer or
nobody at all.
"""
from __future__ import annotations

from uuid import UUID

from domain.placement import Placement
from service import commands as c
from service.errors import InvalidReference
from service.unit import Handlers, Outcome, Unit

handles = Handlers()

SYSTEM_USER = UUID(int=0)


def _agency_user(u: Unit, user_id: UUID) -> UUID:
    if u.accounts is None or user_id not in u.accounts.agency_user_ids(u.app.tenant.id):
        raise InvalidReference("responsible_user_id", f"no agency user with id {user_id}")
    return user_id


def responsible_for_new_placement(u: Unit, cmd: c.StartPlacement) -> UUID | None:
    """The user named, checked; else the agency user starting it (not the platform itself)."""
    if cmd.responsible_user_id is not None:
        return _agency_user(u, cmd.responsible_user_id)
    if u.actor.role == "agency" and u.actor.user_id != SYSTEM_USER:
        return UUID(str(u.actor.user_id))  # a plain UUID (the API's comes from asyncpg)
    return None


@handles(c.AssignPlacementResponsible, roles={"agency"})
def assign_placement_responsible(u: Unit, cmd: c.AssignPlacementResponsible) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    user_id = None if cmd.responsible_user_id is None else _agency_user(u, cmd.responsible_user_id)
    placement.assign_responsible(user_id)
    return Outcome(saved=[placement], created=False, body={
        "id": str(placement.id), "version": placement.version,
        "responsible_user_id": None if user_id is None else str(user_id)})


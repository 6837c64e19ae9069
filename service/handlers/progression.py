"""Progression (issue 16): what changes for a person while placed, beside the
hours, extensions and endings the placement already records: a new role or
pay scale (a scale or band as a code, never an amount), a training
completed, fixed-term to permanent (a placement that is its own employment,
or an explicit employment). Secondment to direct employment with the
employer is the placement's end with reason `direct_employment`.

The agency records these (roles: agency); the read model is
projections/progression.py.
"""
from __future__ import annotations

from domain.employment import Employment
from domain.placement import Placement
from service import commands as c
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit, changed

handles = Handlers()


@handles(c.ChangeRole, roles={"agency"})
def change_role(u: Unit, cmd: c.ChangeRole) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)  # the role's title is sealed under their key
    placement.change_role(cmd.scale, cmd.role, cmd.effective_on, today=u.today())
    return changed(placement, created=True)


@handles(c.CompleteTraining, roles={"agency"})
def complete_training(u: Unit, cmd: c.CompleteTraining) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    refuse_if_erased(u, placement.candidate_id)
    placement.complete_training(cmd.training, cmd.completed_on, today=u.today())
    return changed(placement, created=True)


@handles(c.MakePlacementPermanent, roles={"agency"})
def make_placement_permanent(u: Unit, cmd: c.MakePlacementPermanent) -> Outcome:
    placement = u.get(Placement, cmd.placement_id)
    placement.make_permanent(cmd.on, today=u.today())
    return changed(placement)


@handles(c.MakeEmploymentPermanent, roles={"agency"})
def make_employment_permanent(u: Unit, cmd: c.MakeEmploymentPermanent) -> Outcome:
    employment = u.get(Employment, cmd.employment_id)
    employment.make_permanent(cmd.on, today=u.today())
    return changed(employment)

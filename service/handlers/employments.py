"""Employments: the person's contract with the agency, which makes it their
legal employer. Its start opens the duties record the sickness duties and
the support schemes belong to (domain/duties.py), judged on the person's
target group on the first day of employment; secondments (placements) are
added to it when they start (service/handlers/placements.py)."""
from __future__ import annotations

from domain.candidate import Candidate
from domain.duties import PlacementDuties, judge_schemes
from domain.employment import Employment
from domain.placement import Placement
from service import commands as c
from service.errors import InvalidReference
from service.unit import Handlers, Outcome, Unit, changed

handles = Handlers()


@handles(c.StartEmployment, roles={"agency"})
def start_employment(u: Unit, cmd: c.StartEmployment) -> Outcome:
    candidate = u.reference(Candidate, cmd.candidate_id, "candidate_id")
    if candidate.is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    employment = Employment.start(cmd.candidate_id, cmd.starts_on, cmd.kind, cmd.ends_on)
    duties = PlacementDuties.open(
        employment.id, candidate.id, judge_schemes(candidate.target_group, candidate.date_of_birth, cmd.starts_on),
        judged_on=u.today())
    return Outcome(saved=[employment, duties], created=True, body={"id": str(employment.id)})


@handles(c.EndEmployment, roles={"agency"})
def end_employment(u: Unit, cmd: c.EndEmployment) -> Outcome:
    employment = u.get(Employment, cmd.employment_id)
    secondments = [u.load_fresh(pid) for pid in employment.placement_ids]
    employment.end(cmd.ends_on, cmd.reason, [p.ended_on for p in secondments if isinstance(p, Placement)])
    return changed(employment)

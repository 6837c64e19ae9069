"""Candidates: registration, and what the person states themselves (Ask The
Person): support needs and availability."""
from __future__ import annotations

from domain.candidate import Candidate
from service import commands as c
from service.handlers.erasure import refuse_if_erased
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@handles(c.RegisterCandidate, roles={"agency"})
def register_candidate(u: Unit, cmd: c.RegisterCandidate) -> Outcome:
    return created(Candidate.register(
        full_name=cmd.full_name, date_of_birth=cmd.date_of_birth, target_group=cmd.target_group,
        competences=list(cmd.competences), support_needs=cmd.support_needs,
        benefit_since=cmd.benefit_since, status_holder=cmd.status_holder,
        qualifies_via=cmd.qualifies_via, today=u.today()))


@handles(c.StateSupportNeeds, roles={"agency", "employee"})
def state_support_needs(u: Unit, cmd: c.StateSupportNeeds) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    refuse_if_erased(u, candidate.id)
    candidate.state_support_needs(cmd.support_needs)
    return changed(candidate)


@handles(c.StateAvailability, roles={"agency", "employee"})
def state_availability(u: Unit, cmd: c.StateAvailability) -> Outcome:
    candidate = u.get(Candidate, cmd.candidate_id)
    refuse_if_erased(u, candidate.id)
    candidate.state_availability(cmd.hours_per_week, cmd.available_from, cmd.region)
    return changed(candidate)

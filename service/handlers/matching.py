"""The match pipeline: a candidate proposed for a vacancy, introduced, on
trial, placed or declined. The employer records the meet and greet, the trial
and its own "no" on its own vacancies; proposing and placing stay the agency's."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from domain.candidate import Candidate
from domain.matching import DECLINED, MatchPipeline
from domain.placement import Placement
from domain.vacancy import Vacancy
from service import commands as c
from service.errors import InvalidInput, InvalidReference, NotFound, PermissionDenied
from service.unit import Handlers, Outcome, Unit

handles = Handlers()

EMPLOYER_STEPS = ("introduced", "trial", DECLINED)


@handles(c.RecordMatchStep, roles={"agency", "employer"})  # the employer's steps: EMPLOYER_STEPS
def record_match_step(u: Unit, cmd: c.RecordMatchStep) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    on = cmd.on or u.today()
    if u.actor.role == "employer":
        # Its own vacancy (checked above: another's is NotFound) and a candidate
        # the agency proposed to it; the employer sees no candidate record itself.
        if cmd.step not in EMPLOYER_STEPS:
            raise PermissionDenied(f"the step {cmd.step!r} is recorded by the agency")
        if cmd.by not in (None, "employer"):
            raise InvalidInput("by", "an employer declines on its own behalf: by must be 'employer'")
        cmd = c.RecordMatchStep(**{**asdict(cmd), "by": "employer" if cmd.step == DECLINED else cmd.by})
        pipeline = u.get(MatchPipeline, MatchPipeline.id_for(vacancy.id, cmd.candidate_id))
        candidate = u.load(cmd.candidate_id)
        if getattr(candidate, "is_erased", False):
            raise NotFound("match", pipeline.id)
    elif u.reference(Candidate, cmd.candidate_id, "candidate_id").is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    else:
        try:
            pipeline = u.get(MatchPipeline, MatchPipeline.id_for(vacancy.id, cmd.candidate_id))
        except NotFound:
            pipeline = None
    saved: list[Any] = []
    if cmd.step == "proposed":
        if pipeline is not None:
            raise InvalidInput("step", f"this candidate was already proposed; the match is at {pipeline.step!r}")
        pipeline = MatchPipeline.propose(vacancy.id, cmd.candidate_id, on)
        if cmd.candidate_id not in vacancy.matched_candidate_ids:
            vacancy.match_candidate(cmd.candidate_id)  # so a placement can name the vacancy
            saved.append(vacancy)
    elif pipeline is None:
        raise InvalidInput("step", f"step {cmd.step!r} cannot come first: propose the candidate first")
    elif cmd.step == DECLINED:
        pipeline.decline(cmd.by, cmd.reason, on)
    else:
        if cmd.step == "placed":
            if cmd.placement_id is None:
                raise InvalidInput("placement_id", "the step 'placed' names the placement")
            placement = u.reference(Placement, cmd.placement_id, "placement_id")
            if placement.candidate_id != cmd.candidate_id or placement.employer_id != vacancy.employer_id:
                raise InvalidReference("placement_id", "the placement is not this candidate's at this employer")
        pipeline.advance(cmd.step, on, cmd.placement_id)
    return Outcome(saved=[pipeline, *saved], created=cmd.step == "proposed", body={
        "vacancy_id": str(vacancy.id), "candidate_id": str(cmd.candidate_id), "step": pipeline.step,
        "version": pipeline.version})

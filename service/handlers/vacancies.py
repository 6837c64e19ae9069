"""Vacancies: opening, editing, matching a candidate (without the pipeline's
steps: service/handlers/matching.py) and closing."""
from __future__ import annotations

from domain.candidate import Candidate
from domain.employer import Employer
from domain.vacancy import Vacancy
from service import commands as c
from service.errors import InvalidReference
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@handles(c.OpenVacancy, roles={"agency", "employer"})
def open_vacancy(u: Unit, cmd: c.OpenVacancy) -> Outcome:
    u.reference(Employer, cmd.employer_id, "employer_id")
    return created(Vacancy.open(
        employer_id=cmd.employer_id, title=cmd.title,
        required_competences=list(cmd.required_competences),
        optional_competences=list(cmd.optional_competences),
        hours_per_week=cmd.hours_per_week, opened_on=cmd.opened_on or u.today(), region=cmd.region))


@handles(c.EditVacancy, roles={"agency", "employer"})
def edit_vacancy(u: Unit, cmd: c.EditVacancy) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    vacancy.edit(title=cmd.title,
                 required_competences=None if cmd.required_competences is None else list(cmd.required_competences),
                 optional_competences=None if cmd.optional_competences is None else list(cmd.optional_competences),
                 hours_per_week=cmd.hours_per_week, region=cmd.region)
    return changed(vacancy)


@handles(c.MatchCandidate, roles={"agency"})
def match_candidate(u: Unit, cmd: c.MatchCandidate) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    if u.reference(Candidate, cmd.candidate_id, "candidate_id").is_erased:
        raise InvalidReference("candidate_id", "the candidate was erased")
    vacancy.match_candidate(cmd.candidate_id)
    return Outcome(saved=[vacancy], created=True,
                   body={"vacancy_id": str(vacancy.id), "candidate_id": str(cmd.candidate_id)})


@handles(c.CloseVacancy, roles={"agency", "employer"})
def close_vacancy(u: Unit, cmd: c.CloseVacancy) -> Outcome:
    vacancy = u.get(Vacancy, cmd.vacancy_id)
    vacancy.close(cmd.reason)
    return changed(vacancy)

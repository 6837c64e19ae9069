"""Employers and their contact persons."""
from __future__ import annotations

from domain.employer import Employer
from service import commands as c
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@handles(c.RegisterEmployer, roles={"agency"})
def register_employer(u: Unit, cmd: c.RegisterEmployer) -> Outcome:
    return created(Employer.register(cmd.name))


@handles(c.AddContactPerson, roles={"agency", "employer"})
def add_contact_person(u: Unit, cmd: c.AddContactPerson) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    employer.add_contact_person(cmd.name, cmd.email, phone=cmd.phone, role=cmd.role)
    return changed(employer, created=True)

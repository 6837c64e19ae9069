"""Employers, their contact persons, and their link to an employer
organisation of the platform (which shares the record with its users)."""
from __future__ import annotations

from domain.employer import Employer
from service import commands as c
from service.unit import Handlers, Outcome, Unit, changed, created

handles = Handlers()


@handles(c.RegisterEmployer, roles={"agency"})
def register_employer(u: Unit, cmd: c.RegisterEmployer) -> Outcome:
    employer = Employer.register(cmd.name)
    if cmd.org_id is not None:
        org = u.organisation(cmd.org_id, "employer", "org_id")
        employer.link_organisation(org.id, org.name)
    return created(employer)


@handles(c.LinkEmployerOrganisation, roles={"agency"})
def link_employer_organisation(u: Unit, cmd: c.LinkEmployerOrganisation) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    if cmd.org_id is None:
        employer.unlink_organisation()
    else:
        org = u.organisation(cmd.org_id, "employer", "org_id")
        employer.link_organisation(org.id, org.name)
    return changed(employer)


@handles(c.AddContactPerson, roles={"agency", "employer"})
def add_contact_person(u: Unit, cmd: c.AddContactPerson) -> Outcome:
    employer = u.get(Employer, cmd.employer_id)
    employer.add_contact_person(cmd.name, cmd.email, phone=cmd.phone, role=cmd.role)
    return changed(employer, created=True)

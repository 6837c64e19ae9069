"""One employer's page: its contracts, vacancies and placements, and its
contact persons (personal data: sealed per person in the events, shown to the
agency and to the employer itself).

Other features add sections without changing this module's handlers:
`EMPLOYER_SECTIONS.append(EmployerSection("_employer_x.html", load))`, where
`load(request, viewer, employer)` returns the template's context, or None to
leave the section out (for a viewer it is not meant for)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.employer import Employer
from projections import directory
from service import commands as c
from service.errors import Conflict, InvalidInput, InvalidReference
from web.pages.common import (
    execute,
    field_errors,
    fresh,
    get as get_aggregate,
    may,
    new_idempotency_key,
    parse_id,
    pool,
    redirect_after,
)
from web.pages.forms import Form
from web.pages.render import page
from web.pages.viewer import Viewer, roles

READERS = ("agency", "auditor", "employer")
# Contact persons' names, e-mail addresses and phone numbers: for the people
# who work with them, not for the auditor (who checks figures and history).
CONTACT_READERS = frozenset({"agency", "employer"})


@dataclass(frozen=True)
class EmployerSection:
    template: str  # included in employer.html with the loaded context as `section`
    load: Callable[[Request, Viewer, Employer], Awaitable[dict[str, Any] | None]]


EMPLOYER_SECTIONS: list[EmployerSection] = []


async def _employer_page(request: Request, viewer: Viewer, employer_id: str, values: dict | None = None,
                         errors: dict | None = None, status: int = 200) -> Response:
    ident = parse_id("employer", employer_id)
    employer: Employer = await get_aggregate(request, viewer, Employer, ident)  # own only, else 404
    tenant = viewer.tenant.id
    sections = []
    for section in EMPLOYER_SECTIONS:
        loaded = await section.load(request, viewer, employer)
        if loaded is not None:
            sections.append((section.template, loaded))
    return page(request, "employer.html", {
        "employer": employer,
        "contracts": await directory.contracts(pool(request), tenant, employer_id=ident),
        "vacancies": await directory.vacancies(pool(request), tenant, employer_id=ident),
        "placements": await directory.placements(pool(request), tenant, employer_id=ident),
        "sees_contacts": viewer.role in CONTACT_READERS,
        "can_add_contact": may(viewer, c.AddContactPerson),
        "can_open_vacancy": may(viewer, c.OpenVacancy), "can_register_contract": may(viewer, c.RegisterContract),
        "sections": sections, "values": values or {}, "errors": errors or {},
        "idempotency": new_idempotency_key(),
    }, status=status)


@get("/employers/{employer_id:str}", name="employer", guards=[roles(*READERS)])
async def employer_detail(request: Request, viewer: NamedDependency[Viewer], employer_id: FromPath[str]) -> Response:
    await fresh(request, viewer)
    return await _employer_page(request, viewer, employer_id)


@post("/employers/{employer_id:str}/contact-persons", guards=[roles("agency", "employer")])
async def add_contact_person(request: Request, viewer: NamedDependency[Viewer],
                             employer_id: FromPath[str]) -> Response:
    ident = parse_id("employer", employer_id)
    await get_aggregate(request, viewer, Employer, ident)  # visible, else 404
    form = await Form.read(request)
    fields = dict(name=form.text("name"), email=form.text("email"),
                  phone=form.text("phone", required=False) or None, role=form.text("role", required=False) or None)
    if form.ok:
        try:
            result = await execute(request, viewer, c.AddContactPerson(employer_id=ident, **fields), form)
            return redirect_after(result, f"/employers/{employer_id}#contacts")
        except (InvalidInput, InvalidReference, Conflict) as e:
            form.errors = field_errors(e, form, "name")
    return await _employer_page(request, viewer, employer_id, form.values(), form.errors, 422)

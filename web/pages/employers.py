"""One employer's page: its contracts, vacancies and placements, and its
contact persons (personal data: sealed per person in the events, shown to the
agency and to the employer itself). The page with the sections of other
features (support activities, the pipeline) is assembled in
web/pages/assembly.py."""
from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from domain.employer import Employer
from service import commands as c
from web.ids import parse_id
from web.pages.answer import FormState, PageRenderer, answer
from web.pages.common import PageServices, fresh, get as get_aggregate
from web.pages.forms import Form
from web.pages.viewer import Viewer, may_issue, roles

READERS = ("agency", "auditor", "employer")


@get("/employers/{employer_id:str}", name="employer", guards=[roles(*READERS)])
async def employer_detail(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          employer_id: FromPath[str],
                          employer_page: NamedDependency[PageRenderer]) -> Response:
    await fresh(services, request, viewer)
    return await employer_page(services, request, viewer, employer_id)


@post("/employers/{employer_id:str}/contact-persons", guards=[may_issue(c.AddContactPerson)])
async def add_contact_person(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                             employer_id: FromPath[str], employer_page: NamedDependency[PageRenderer]) -> Response:
    ident = parse_id("employer", employer_id)
    await get_aggregate(services, viewer, Employer, ident)  # visible, else 404
    form = await Form.read(request)
    fields = dict(name=form.text("name"), email=form.text("email"),
                  phone=form.text("phone", required=False) or None, role=form.text("role", required=False) or None)

    async def show(state: FormState, status: int) -> Response:
        return await employer_page(services, request, viewer, employer_id, forms={"employer": state}, status=status)

    command = c.AddContactPerson(employer_id=ident, **fields)  # type: ignore[arg-type]
    return await answer(services, request, viewer, form, command,
                        to=f"/employers/{employer_id}#contacts", show=show, field="name")


@post("/employers/{employer_id:str}/organisation", guards=[may_issue(c.LinkEmployerOrganisation)])
async def link_organisation(request: Request, services: NamedDependency[PageServices],
                            viewer: NamedDependency[Viewer], employer_id: FromPath[str],
                            employer_page: NamedDependency[PageRenderer]) -> Response:
    """Share the employer record with an employer organisation of the platform,
    or (`unlink`) with none any more."""
    ident = parse_id("employer", employer_id)
    await get_aggregate(services, viewer, Employer, ident)  # visible, else 404
    form = await Form.read(request)
    org_id = None if form.flag("unlink") else form.ident("org_id")

    async def show(state: FormState, status: int) -> Response:
        return await employer_page(services, request, viewer, employer_id, forms={"organisation": state},
                                   status=status)

    command = c.LinkEmployerOrganisation(employer_id=ident, org_id=org_id)  # type: ignore[arg-type]
    return await answer(services, request, viewer, form, command, to=f"/employers/{employer_id}#organisation",
                        show=show, field="org_id")

"""Isolation of the pages, swept from their route table (`web.pages.PAGE_HANDLERS`):
every page and fragment, as every role and as another municipality's
official, on our own records, with another tenant's ids, and with another
employer's or person's; every form posted with another tenant's ids.

The status codes of the same sweeps are asserted in tests/web/test_security.py
and test_roles.py; here every answer (body and headers) is also searched for
what identifies another tenant or party, and for special-category text shown
to a role that may not read it. The platform organisations' users (ORG_USERS:
each world's contract is linked to its authority organisation, its employer
record to its employer organisation; two agencies, and the neighbour's own two
organisations in ours) are swept too: they open the pages of a record an agency
shares with them (`opt={ORGANISATION_PAGES: True}`, web/pages/viewer.py), and
another tenant's, employer's or municipality's record answers as an id that
never existed. Each request is a probe (tests/attack/probes.py)."""
from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from uuid import UUID, uuid4

import pytest
from dramatiq.brokers.stub import StubBroker

from infra import export_jobs
from projections.registry import QUEUE
from domain.contribution import Contribution
from domain.placement import Placement
from service.actor import Actor
from service.errors import PermissionDenied
from tests.attack.conftest import FULL_READERS, ORG_USERS, SPECIAL_CATEGORY, Party
from tests.attack.probes import identifying, same_answer, sweep
from tests.web.world import PARAM_RE, POST_ROLES, ROLES, Browser, form_for, page_routes, params_of
from web.api.auth import DOCUMENT_PARAM, RECORD_PARAMS
from web.pages import PAGE_HANDLERS
from web.pages.viewer import ORGANISATION_PAGES, VIEWER_KEY

GET_ROUTES = page_routes("GET")
# Platform data, the same for every tenant (the rule sets, public rules): no tenant's record in the path.
PUBLIC_ROUTES = {"/rule-sets/{name:str}/{version:str}"}
GET_ID_ROUTES = [r for r in GET_ROUTES if params_of(r) and r not in PUBLIC_ROUTES]
POST_ID_ROUTES = [r for r in page_routes("POST") if params_of(r)]
WHO = (*ROLES, "other authority", *ORG_USERS)
HTMX = {"HX-Request": "true"}


def role_of(who: str) -> str:
    return who.split()[-1]


def forbidden(ours: Party, who: str, *others: Party) -> set[str]:
    """What our user `who` may not see: the others' strings, but for their own
    e-mail and id (the pages show whom one is signed in as)."""
    out: set[str] = set().union(*(o.strings() for o in others)) - ours.own(who)
    if role_of(who) not in FULL_READERS:
        out |= set(SPECIAL_CATEGORY)
    return out


def test_no_page_shows_another_tenants_or_partys_data(
        ours: Party, neighbour: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    """Every page on our own records, as everyone: nothing of the other tenant;
    nothing of the neighbour employer and person to our employer and person;
    nothing of ours to another municipality's official; no other person's id to the
    person."""
    s = sweep("pages: every role on its own records")
    for who in WHO:
        me = signed_in_as(ours, who)
        others = {"employer": (theirs, neighbour), "employee": (theirs, neighbour),
                  "other authority": (theirs, neighbour, ours), "org authority": (theirs, neighbour),
                  "org employer": (theirs, neighbour)}.get(who, (theirs,))
        hidden = forbidden(ours, who, *others) | (ours.other_people() if who == "employee" else set())
        for route in GET_ROUTES:
            path = ours.world.fill(route)
            for headers in ({}, HTMX):
                s.check(f"GET {route} as {who}{' (htmx)' if headers else ''}", me.get(path, headers=headers),
                        forbidden=hidden, sent=path)
    assert s.tried >= 2 * len(WHO) * len(GET_ROUTES) and s.failures == [], "\n".join(s.failures)


def test_another_tenants_ids_answer_404_on_every_page_and_form(
        ours: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    s = sweep("pages: another tenant's ids")
    before = theirs.events()
    for who in WHO:
        me = signed_in_as(ours, who)
        for route in GET_ROUTES:
            if not params_of(route) or route in PUBLIC_ROUTES:
                continue
            path = theirs.world.fill(route)
            for headers in ({}, HTMX):
                s.check(f"GET {route} as our {who} with their ids{' (htmx)' if headers else ''}",
                        me.get(path, headers=headers), expect={404} if who == "agency" else {403, 404},
                        forbidden=forbidden(ours, who, theirs), sent=path)
        for route in POST_ID_ROUTES:
            path, form = theirs.world.fill(route), form_for(theirs.world, route)
            # Strictly 404 for the role that posts the form: the agency, or the person
            # for a form only they post (their own check-in).
            allowed = POST_ROLES[route][0]
            strict = who == "agency" if "agency" in allowed else who in allowed
            s.check(f"POST {route} as our {who} with their ids", me.post(path, form),
                    expect={404} if strict else {403, 404}, forbidden=forbidden(ours, who, theirs),
                    sent=path + repr(form))
    assert s.tried == len(WHO) * (2 * len(GET_ID_ROUTES) + len(POST_ID_ROUTES)) >= 300
    assert s.failures == [], "\n".join(s.failures)
    assert theirs.events() == before, "a page request with their ids changed their records"


def test_another_employers_persons_or_municipalitys_pages_answer_404(
        ours: Party, neighbour: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    s = sweep("pages: another employer, person or municipality")
    before = ours.events()
    # Our organisations' users on the neighbour's records, which the agency shares with the neighbour's.
    whos = ("employer", "employee", "other authority", *ORG_USERS)
    for who in whos:
        me = signed_in_as(ours, who)
        target = ours if who == "other authority" else neighbour
        others = (ours, neighbour) if who == "other authority" else (neighbour,)
        for route in GET_ROUTES:
            if not params_of(route) or route in PUBLIC_ROUTES:
                continue
            path = target.world.fill(route)
            s.check(f"GET {route} as {who} on another's record", me.get(path), expect={403, 404},
                    forbidden=forbidden(ours, who, *others), sent=path)
        for route in POST_ID_ROUTES:
            path, form = target.world.fill(route), form_for(target.world, route)
            s.check(f"POST {route} as {who} on another's record", me.post(path, form), expect={403, 404},
                    forbidden=forbidden(ours, who, *others), sent=path + repr(form))
    assert s.tried == len(whos) * (len(GET_ID_ROUTES) + len(POST_ID_ROUTES)) >= 100
    assert s.failures == [], "\n".join(s.failures)
    assert ours.events() == before, "a page request on another party's records changed something"


# Query strings that name a record or search by name: filled with another tenant's.
PAGE_QUERIES = [
    "/candidates?q={marker}",
    "/candidates?q={candidate_id}",
    "/placements/new?vacancy={vacancy_id}&candidate={candidate_id}&employer={employer_id}",
    "/contracts/new?employer={employer_id}",
    "/vacancies/new?employer={employer_id}",
    "/audit/events?record={placement_id}",
    "/audit/events?user={user_id}",
    "/audit/access-log?subject={candidate_id}",
    "/placements?q={marker}",
    "/employers?q={marker}",
]


def test_query_strings_with_another_tenants_ids_or_names_find_nothing_of_theirs(
        ours: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    s = sweep("pages: another tenant's ids and names in query strings")
    values = {**theirs.params(), "marker": theirs.marker, "user_id": str(theirs.users["agency"].id)}
    for who in WHO:
        me = signed_in_as(ours, who)
        for query in PAGE_QUERIES:
            path = query.format(**values)
            s.check(f"GET {query} as our {who} with theirs", me.get(path), forbidden=forbidden(ours, who, theirs),
                    sent=path)
    assert s.tried == len(WHO) * len(PAGE_QUERIES) and s.failures == [], "\n".join(s.failures)


# -- exports ------------------------------------------------------------------------------------------

def export_of(party: Party) -> UUID:
    """A finished export job of the party's tenant (what the worker does on request)."""
    system, tenant = party.agency.system, party.agency.tenant
    platform = system.stores.database("default")
    job = export_jobs.request_export(platform, StubBroker(), QUEUE, tenant, party.users["auditor"].id)
    export_jobs.run_export_job(platform, system.stores.database(tenant.database), system.settings, tenant, job)
    return job


@pytest.fixture
def exports(ours: Party, theirs: Party) -> Iterator[tuple[UUID, UUID]]:
    yield export_of(ours), export_of(theirs)
    for party in (ours, theirs):
        shutil.rmtree(party.agency.system.settings.data_dir / "exports" / str(party.agency.tenant.id),
                      ignore_errors=True)


def test_an_export_holds_only_its_own_tenant_and_another_tenants_export_is_404(
        ours: Party, theirs: Party, exports: tuple[UUID, UUID], signed_in_as: Callable[[Party, str], Browser]) -> None:
    s = sweep("exports: another tenant's export")
    mine, their_job = exports
    for who in WHO:
        me = signed_in_as(ours, who)
        for path in (f"/audit/export/jobs/{their_job}", f"/audit/export/jobs/{their_job}/download"):
            for headers in ({}, HTMX):
                s.check(f"GET {path.replace(str(their_job), '{their job}')} as our {who}",
                        me.get(path, headers=headers), expect={404} if who in ("agency", "auditor") else {403, 404},
                        forbidden=forbidden(ours, who, theirs), sent=path)
        own = me.get(f"/audit/export/jobs/{mine}/download")
        s.check(f"GET our own export as {who}", own, expect={200} if who in ("agency", "auditor") else {403},
                forbidden=theirs.strings())
        if own.status_code == 200:
            assert str(ours.world.ids["placement"]) in own.text  # the real export, with our events
    assert s.tried == len(WHO) * 5 and s.failures == [], "\n".join(s.failures)


# -- platform organisations' users on the pages of shared records -------------------------------------

CSRF = re.compile(r'name="_csrf_token" value="[^"]*"')


def _shared_record_routes(method: str) -> list[str]:
    """The pages (and forms) that open for an organisation's user: marked for it
    and naming a record an agency may share (web/api/auth.py)."""
    return sorted({path for h in PAGE_HANDLERS if method in h.http_methods and h.opt.get(ORGANISATION_PAGES)
                   for path in h.paths
                   if any(p in RECORD_PARAMS or p == DOCUMENT_PARAM for p in params_of(path))})


def _lets_in(route: str, method: str, role: str) -> bool:
    """Whether the route's own guards (roles, may_issue) let the role in, as for the role in a tenant."""
    handler = next(h for h in PAGE_HANDLERS if method in h.http_methods and route in h.paths)
    connection = SimpleNamespace(scope={VIEWER_KEY: SimpleNamespace(role=role)})
    try:
        for guard in handler.guards or []:
            guard(connection, handler)  # type: ignore[arg-type]
    except PermissionDenied:
        return False
    return True


def _answer_as_unknown(s: object, where: str, a: object, b: object, sent_a: list[str], sent_b: list[str]) -> None:
    """Their record and one that never existed: the same page (but for the ids sent and the form tokens)."""
    def strip(r: object) -> SimpleNamespace:
        return SimpleNamespace(status_code=r.status_code, text=CSRF.sub("", r.text))  # type: ignore[attr-defined]
    if not same_answer(strip(a), strip(b), sent_a, sent_b):
        s.fail(where, f"answers differently from a made-up id: {a.status_code} / {b.status_code}")  # type: ignore


SHARED_GET = _shared_record_routes("GET")
SHARED_POST = _shared_record_routes("POST")


def test_an_organisations_user_opens_the_pages_of_what_is_shared_with_it(
        ours: Party, neighbour: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    """Our organisations' users on the records our agency shares with them: the
    pages their role opens in a tenant answer 200 (the others 403), showing
    nothing of the other tenant or the neighbour, nor special-category text."""
    s = sweep("pages: organisation users on shared records")
    opened: dict[str, set[str]] = {}
    for who in ORG_USERS:
        me, role = signed_in_as(ours, who), role_of(who)
        hidden = forbidden(ours, who, theirs, neighbour)
        for route in SHARED_GET:
            path = ours.world.fill(route)
            expect = {200} if _lets_in(route, "GET", role) else {403}
            for headers in ({}, HTMX):
                r = me.get(path, headers=headers)
                s.check(f"GET {route} as our {who}{' (htmx)' if headers else ''}", r, expect=expect,
                        forbidden=hidden, sent=path)
                if r.status_code == 200:
                    opened.setdefault(who, set()).add(route)
    assert s.failures == [], "\n".join(s.failures)
    # The contract page for both; the placement page for the employer only (as in a tenant).
    assert {"/contracts/{contract_id:str}", "/statements/{statement_id:str}",
            "/documents/{document_id:str}/download"} <= opened["org authority"]
    assert not any(r.startswith("/placements/") for r in opened["org authority"])
    assert {"/contracts/{contract_id:str}", "/placements/{placement_id:str}"} <= opened["org employer"]


def test_a_record_not_shared_with_the_organisation_answers_as_an_unknown_id(
        ours: Party, neighbour: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    """Our organisations' users with another tenant's records (shared with its
    own organisations) and the neighbour's (in our agency, shared with the
    neighbour's): on every page and form that opens for them, the same answer
    as an id that never existed; nothing changed anywhere."""
    s = sweep("pages: organisation users on records not shared with them")
    before = (ours.events(), theirs.events())
    for who in ORG_USERS:
        me, role = signed_in_as(ours, who), role_of(who)
        for other in (theirs, neighbour):
            never = {k: (str(uuid4()) if identifying([v]) else v) for k, v in other.params().items()}
            for method, routes in (("GET", SHARED_GET), ("POST", SHARED_POST)):
                for route in routes:
                    if not _lets_in(route, method, role):
                        continue  # refused by its role alone (403), whoever's record
                    attack = other.world.fill(route)
                    blind = PARAM_RE.sub(lambda m: never[m.group(1)], route)
                    if method == "GET":
                        a, b = me.get(attack), me.get(blind)
                    else:
                        form = form_for(other.world, route)
                        a, b = me.post(attack, form), me.post(blind, form)
                    where = f"{method} {route} as our {who} on {'their' if other is theirs else 'the neighbour'}s"
                    s.check(where, a, expect={404}, forbidden=forbidden(ours, who, other), sent=attack)
                    s.check(where + " (made up)", b, expect={404}, sent=blind)
                    sent_a = [x for x in identifying(other.params().values()) if x in attack]
                    sent_b = [x for x in identifying(never.values()) if x in blind]
                    _answer_as_unknown(s, where, a, b, sent_a, sent_b)
    let_in = sum(_lets_in(route, method, role_of(who)) for who in ORG_USERS
                 for method, routes in (("GET", SHARED_GET), ("POST", SHARED_POST)) for route in routes)
    # Two others, each id and a made-up one, on every route its role may use.
    assert s.tried == 2 * 2 * let_in >= 80 and s.failures == [], "\n".join(s.failures)
    assert (ours.events(), theirs.events()) == before, "a request on a record not shared changed something"


def test_an_organisations_decision_from_a_page_lands_in_the_owning_agencys_history(
        ours: Party, theirs: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    """The forms that open for our organisations' users, posted on our shared
    records: stored in our agency's history with the organisation's user as
    actor (its id and its organisation's), nothing in the other tenant. Last in
    the module: it changes our records."""
    s = sweep("pages: organisation users' forms on shared records")
    theirs_before = theirs.events()
    posted: set[tuple[str, str]] = set()
    for who in ORG_USERS:
        me, role = signed_in_as(ours, who), role_of(who)
        for route in SHARED_POST:
            if not _lets_in(route, "POST", role) or role not in POST_ROLES[route][0]:
                continue
            path = ours.world.fill(route)
            before = ours.events()
            r = me.post(path, form_for(ours.world, route))
            s.check(f"POST {route} as our {who}", r, expect={303, 409, 422}, forbidden=forbidden(ours, who, theirs),
                    sent=path)
            if r.status_code == 303:
                posted.add((who, route))
                assert ours.events() > before, route
    assert s.failures == [], "\n".join(s.failures)
    accept = "/contracts/{contract_id:str}/contributions/{contribution_id:str}/accept"
    feedback = "/placements/{placement_id:str}/feedback"
    assert {("org authority", accept), ("org employer", feedback)} <= posted
    system, tenant = ours.agency.system, ours.agency.tenant
    decided = system.ledger.history(tenant, Actor.system(), Contribution, ours.world.ids["purchase"])[-1]
    given = system.ledger.history(tenant, Actor.system(), Placement, ours.world.ids["placement"])
    given = [e for e in given if e["type"] == "FeedbackGiven"][-1]
    for event, who in ((decided, "org authority"), (given, "org employer")):
        user = ours.users[who]
        assert (event["metadata"]["user_id"], event["metadata"]["org_id"], event["metadata"]["role"]) == (
            str(user.id), str(user.org_id), role_of(who)), event
    assert decided["type"] == "ContributionAccepted"
    assert theirs.events() == theirs_before

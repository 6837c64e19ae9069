"""Isolation of the pages, swept from their route table (`web.pages.PAGE_HANDLERS`):
every page and fragment, as every role and as another municipality's
official, on our own records, with another tenant's ids, and with another
employer's or person's; every form posted with another tenant's ids.

The status codes of the same sweeps are asserted in tests/web/test_security.py
and test_roles.py; here every answer (body and headers) is also searched for
what identifies another tenant or party, and for special-category text shown
to a role that may not read it. Each request is a probe (tests/attack/probes.py)."""
from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from uuid import UUID

import pytest
from dramatiq.brokers.stub import StubBroker

from infra import export_jobs
from projections.registry import QUEUE
from tests.attack.conftest import FULL_READERS, SPECIAL_CATEGORY, Party
from tests.attack.probes import sweep
from tests.web.world import ROLES, Browser, form_for, page_routes, params_of

GET_ROUTES = page_routes("GET")
GET_ID_ROUTES = [r for r in GET_ROUTES if params_of(r)]
POST_ID_ROUTES = [r for r in page_routes("POST") if params_of(r)]
WHO = (*ROLES, "other authority")
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
                  "other authority": (theirs, neighbour, ours)}.get(who, (theirs,))
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
            if not params_of(route):
                continue
            path = theirs.world.fill(route)
            for headers in ({}, HTMX):
                s.check(f"GET {route} as our {who} with their ids{' (htmx)' if headers else ''}",
                        me.get(path, headers=headers), expect={404} if who == "agency" else {403, 404},
                        forbidden=forbidden(ours, who, theirs), sent=path)
        for route in POST_ID_ROUTES:
            path, form = theirs.world.fill(route), form_for(theirs.world, route)
            s.check(f"POST {route} as our {who} with their ids", me.post(path, form),
                    expect={404} if who == "agency" else {403, 404}, forbidden=forbidden(ours, who, theirs),
                    sent=path + repr(form))
    assert s.tried == len(WHO) * (2 * len(GET_ID_ROUTES) + len(POST_ID_ROUTES)) >= 300
    assert s.failures == [], "\n".join(s.failures)
    assert theirs.events() == before, "a page request with their ids changed their records"


def test_another_employers_persons_or_municipalitys_pages_answer_404(
        ours: Party, neighbour: Party, signed_in_as: Callable[[Party, str], Browser]) -> None:
    s = sweep("pages: another employer, person or municipality")
    before = ours.events()
    for who in ("employer", "employee", "other authority"):
        me = signed_in_as(ours, who)
        target = ours if who == "other authority" else neighbour
        others = (ours, neighbour) if who == "other authority" else (neighbour,)
        for route in GET_ROUTES:
            if not params_of(route):
                continue
            path = target.world.fill(route)
            s.check(f"GET {route} as {who} on another's record", me.get(path), expect={403, 404},
                    forbidden=forbidden(ours, who, *others), sent=path)
        for route in POST_ID_ROUTES:
            path, form = target.world.fill(route), form_for(target.world, route)
            s.check(f"POST {route} as {who} on another's record", me.post(path, form), expect={403, 404},
                    forbidden=forbidden(ours, who, *others), sent=path + repr(form))
    assert s.tried == 3 * (len(GET_ID_ROUTES) + len(POST_ID_ROUTES)) >= 100
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

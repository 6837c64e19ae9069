"""Audit pages: who did what and when, figures as known then and now, the
hash chain and exports, and the access log of special-category data.

For auditors (and the agency); they only read. Requesting an export changes
no record: it writes a file beside the ledger.
"""
from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File

from infra import audit, export_jobs
from infra.eventstore import EventStoreDatabase
from infra.registry import ROLES
from infra.settings import Settings
from projections import access_log, audit_queries, compliance
from projections.reader import position_known_at
from projections.writer import ProjectionRunner
from projections.registry import BY_NAME, QUEUE
from service.errors import NotFound
from web.ids import parse_id
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.render import page, wants_fragment
from web.pages.viewer import Viewer, roles

READERS = ("auditor", "agency")
PAGE_SIZE = 50
ACCESS_LOG_LIMIT = 200
ACTOR_ROLES = (*ROLES, "platform")  # "platform": the command line
EVENT_FILTERS = ("type", "record", "role", "user", "from", "to")
FIGURES = ("obligation_eur", "reported_eur", "accepted_eur", "forecast_eur", "percent_accepted", "status")


@dataclass
class AuditServices:
    """What the audit pages need beyond the ledger: settings and the broker."""

    settings: Settings
    broker: Any
    public_key: str | None = field(default=None, repr=False)  # read once, see _public_key


def _databases(services: PageServices, viewer: Viewer) -> tuple[EventStoreDatabase, EventStoreDatabase]:
    """(the platform database, the tenant's own database)."""
    stores = services.ledger.stores
    return stores.database("default"), stores.database(viewer.tenant.database)


def utc(moment: datetime | str | None) -> str:
    """A moment as shown on the audit pages: UTC to the second."""
    if moment is None:
        return "–"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=timezone.utc) if day else None


def _after_day(day: date | None) -> datetime | None:
    return _day_start(day + timedelta(days=1)) if day else None


def _id(form: Form, name: str) -> UUID | None:
    ident = form.ident(name, required=False)
    if form.errors.get(name) == "choice":
        form.errors[name] = "id"
    return ident


# -- who did what and when ----------------------------------------------------------

@get("/audit", guards=[roles(*READERS)])
async def audit_home(request: Request, viewer: NamedDependency[Viewer]) -> Response:
    return Response(b"", status_code=303, headers={"Location": "/audit/events"})


@get("/audit/events", name="audit_events", guards=[roles(*READERS)])
async def audit_events(request: Request, services: NamedDependency[PageServices],
                       viewer: NamedDependency[Viewer]) -> Response:
    """The tenant's stored events, newest first: metadata only, never an event's data."""
    form = Form(request.query_params)
    event_type = form.raw("type")
    if event_type and not event_type.isalnum():
        form.error("type", "choice")
    filters = audit_queries.EventFilter(
        event_type=event_type or None, record_id=_id(form, "record"), user_id=_id(form, "user"),
        role=form.choice("role", ACTOR_ROLES, required=False),
        since=_day_start(form.day("from", required=False)), until=_after_day(form.day("to", required=False)))
    raw_before = form.raw("before")
    before = int(raw_before) if raw_before.isascii() and raw_before.isdigit() and len(raw_before) < 19 else None  # else: the newest
    _, database = _databases(services, viewer)
    rows: list[dict[str, Any]] = []
    more = False
    if form.ok:
        rows, more = await asyncio.to_thread(audit_queries.event_history, database, viewer.tenant, filters,
                                             before=before, limit=PAGE_SIZE)
    values = {k: form.raw(k) for k in EVENT_FILTERS if form.raw(k)}
    context = {
        "rows": rows, "values": values, "errors": form.errors, "before": before,
        "fragment": wants_fragment(request),
        "older": ("/audit/events?" + urlencode({**values, "before": rows[-1]["position"]})) if more else None,
        "newest": ("/audit/events?" + urlencode(values)) if values else "/audit/events",
        "utc": utc,
    }
    status = 200 if form.ok else 422
    if wants_fragment(request):
        return page(services.templates, request, "audit_events.html", context, block="results", status=status)
    context["types"] = await asyncio.to_thread(audit_queries.event_types, database, viewer.tenant)
    context["roles"] = ACTOR_ROLES
    return page(services.templates, request, "audit_events.html", context, status=status)


# -- as known then, as known now ---------------------------------------------------------

def _known_at(form: Form) -> datetime | None:
    """The moment asked for: ISO 8601; without a zone (as a datetime-local
    field sends it) it is UTC."""
    raw = form.raw("known_at")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        form.error("known_at", "moment")
        return None
    if form.within_calendar("known_at", moment.date()) is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _compare(then: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    """Per contract, each figure as known then and now, and whether it changed."""
    known_then = {c["contract_id"]: c for c in then["contracts"]}
    out = []
    for contract in now["contracts"] + [c for c in then["contracts"]
                                        if c["contract_id"] not in {n["contract_id"] for n in now["contracts"]}]:
        old = known_then.get(contract["contract_id"])
        figures = [{"name": name, "then": old[name] if old else None, "now": contract.get(name),
                    "changed": old is None or old[name] != contract.get(name)} for name in FIGURES]
        out.append({"contract_id": contract["contract_id"], "title": contract["title"],
                    "authority": contract["contracting_authority"], "known_then": old is not None,
                    "figures": figures, "changed": any(f["changed"] for f in figures)})
    return out


@get("/audit/compliance", name="audit_compliance", guards=[roles(*READERS)])
async def audit_compliance(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer]) -> Response:
    """Compliance per contract as known at a moment, beside the figures known now."""
    form = Form(request.query_params)
    moment = _known_at(form)
    as_of = form.day("as_of", required=False) or date.today()
    values = {"as_of": form.raw("as_of") or as_of.isoformat(), "known_at": form.raw("known_at")}
    if moment is not None:  # as a datetime-local field shows it
        values["known_at"] = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    context: dict[str, Any] = {"values": values, "errors": form.errors, "known_at": moment, "as_of": as_of,
                               "utc": utc, "contracts": None}
    if moment is not None and form.ok:
        tenant = viewer.tenant
        _, database = _databases(services, viewer)
        position = await asyncio.to_thread(position_known_at, database, tenant, moment)
        now = await compliance.compliance_summary(services.pool, tenant.id, as_of)
        if position:
            gen = await asyncio.to_thread(ProjectionRunner(database, BY_NAME[compliance.NAME]).as_of,
                                          tenant, position)
            then = await compliance.compliance_summary(services.pool, tenant.id, as_of, gen=gen)
        else:  # nothing was recorded yet
            then = {"contracts": [], "total": {}}
        head_position, head_hash = await asyncio.to_thread(audit.head_of, database, tenant)
        context.update(
            known_position=position,
            known_hash=await asyncio.to_thread(audit_queries.chain_hash_at, database, tenant, position)
            if position else None,
            head_position=head_position, head_hash=head_hash.hex() if head_position else None,
            contracts=_compare(then, now),
            totals=[{"name": name, "then": then["total"].get(name), "now": now["total"].get(name),
                     "changed": then["total"].get(name) != now["total"].get(name)}
                    for name in ("obligation_eur", "reported_eur", "accepted_eur", "forecast_eur")],
        )
    return page(services.templates, request, "audit_compliance.html", context, status=200 if form.ok else 422)


# -- the chain and exports ---------------------------------------------------------------

@get("/audit/export", name="audit_export", guards=[roles(*READERS)])
async def audit_export(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                       audit_services: NamedDependency[AuditServices]) -> Response:
    platform_db, database = _databases(services, viewer)
    public = await _public_key(audit_services)
    report = await asyncio.to_thread(
        audit.verify_tenant, platform_db, database, viewer.tenant,
        public_key=base64.b64decode(public) if public else None,
        sign_within=audit_services.settings.head_sign_seconds)
    head = await asyncio.to_thread(audit.latest_signed_head, platform_db, viewer.tenant)
    jobs = await asyncio.to_thread(export_jobs.recent_jobs, platform_db, viewer.tenant)
    return page(services.templates, request, "audit_export.html", {
        "report": report, "head": head, "jobs": jobs, "utc": utc,
        "public_key": public if any(j.status == "done" for j in jobs) else None,
    })


@post("/audit/export", guards=[roles(*READERS)])
async def request_export(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                         audit_services: NamedDependency[AuditServices]) -> Response:
    """Enqueue an export for a worker; the page then follows its progress."""
    platform_db, _ = _databases(services, viewer)
    job_id = await asyncio.to_thread(export_jobs.request_export, platform_db, audit_services.broker, QUEUE,
                                     viewer.tenant, viewer.actor.user_id)
    return Response(b"", status_code=303, headers={"Location": f"/audit/export#job-{job_id}"})


async def _job(services: PageServices, viewer: Viewer, job_id: str) -> export_jobs.ExportJob:
    platform_db, _ = _databases(services, viewer)
    job = await asyncio.to_thread(export_jobs.job_of, platform_db, viewer.tenant, parse_id("export", job_id))
    if job is None:
        raise NotFound("export", job_id)
    return job


@get("/audit/export/jobs/{job_id:str}", guards=[roles(*READERS)])
async def export_job(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                     job_id: FromPath[str],
                     audit_services: NamedDependency[AuditServices]) -> Response:
    """One job's progress: the fragment the export page polls (the whole page without htmx)."""
    job = await _job(services, viewer, job_id)
    if not wants_fragment(request):
        return Response(b"", status_code=303, headers={"Location": f"/audit/export#job-{job.id}"})
    return page(services.templates, request, "audit_export.html", {
        "job": job, "utc": utc, "public_key": await _public_key(audit_services) if job.status == "done" else None,
    }, block="job")


@get("/audit/export/jobs/{job_id:str}/download", guards=[roles(*READERS)])
async def download_export(request: Request, services: NamedDependency[PageServices], viewer: NamedDependency[Viewer],
                          job_id: FromPath[str],
                          audit_services: NamedDependency[AuditServices]) -> File:
    """The export file, to the tenant's own auditors and agency only."""
    job = await _job(services, viewer, job_id)
    path = export_jobs.export_path(audit_services.settings, viewer.tenant.id, job.id)
    if job.status != "done" or not path.is_file():
        raise NotFound("export", job_id)
    return File(path=path, filename=f"{viewer.tenant.slug}-{job.created_at:%Y%m%d-%H%M%S}.jsonl",
                media_type="application/x-ndjson")


async def _public_key(services: AuditServices) -> str | None:
    """The platform's head-signing public key (what `sroi keys public` prints)."""
    if services.public_key is None:
        try:
            key = await asyncio.to_thread(audit.load_signing_key, services.settings)
        except (audit.SigningKeyMissing, OSError, ValueError):
            return None  # the page then leaves the command out
        services.public_key = audit.public_key_b64(key)
    return services.public_key


# -- the access log ------------------------------------------------------------------------

@get("/audit/access-log", name="audit_access_log", guards=[roles(*READERS)])
async def audit_access_log(request: Request, services: NamedDependency[PageServices],
                           viewer: NamedDependency[Viewer]) -> Response:
    """Who was shown whose special-category data, when."""
    form = Form(request.query_params)
    subject = _id(form, "subject")
    since, until = _day_start(form.day("from", required=False)), _after_day(form.day("to", required=False))
    entries = []
    if form.ok:
        entries = await access_log.access_log(services.pool, viewer.tenant.id, subject_id=subject,
                                              since=since, until=until, limit=ACCESS_LOG_LIMIT)
    return page(services.templates, request, "audit_access_log.html", {
        "entries": entries, "values": form.values(), "errors": form.errors, "limit": ACCESS_LOG_LIMIT,
        "utc": utc,
    }, status=200 if form.ok else 422)

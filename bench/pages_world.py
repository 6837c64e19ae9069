"""bench/pages.py, the world measured: a tenant of N placements built with
bench.projections.build_history (or the one a previous run left, --reuse),
heavy placements given many feedback events through the ledger, every
projection caught up, tables vacuumed and analysed, an agency user with a
password; and which placements and search terms the series use."""
from __future__ import annotations

import argparse
import os
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from bench.common import bench_system, note, say
from bench.projections import build_history, events_per_placement
from infra.eventstore import SCHEMA as EVENTS_SCHEMA
from projections.base import RM
from projections.registry import PROJECTIONS
from projections.writer import ProjectionRunner
from service import commands as c
from service.actor import Actor

EMAIL = "agency@bench-pages.example.org"
PASSWORD = "bench-pages-password-1"
FEEDBACK_COMMENTS = ["Goed bezig", "Loopt goed mee in het team.", "",
                     "Heeft meer begeleiding nodig bij nieuwe taken."]


@dataclass
class Setup:
    system: Any
    tenant: Any
    events: int
    placements: int
    busy: list[tuple[uuid.UUID, int]]        # (placement, events), most events in the history
    heavy: list[tuple[uuid.UUID, int]]       # (placement, events), given many feedback events
    feedback_targets: list[uuid.UUID]        # active placements for the feedback POSTs
    search_broad: list[str]
    search_narrow: list[str]


def placement_event_counts(database: Any, tenant: Any, ids: list[uuid.UUID] | None = None,
                           limit: int = 20) -> list[tuple[uuid.UUID, int]]:
    q = sql.SQL(
        "SELECT e.originator_id AS id, count(*) AS n FROM {}.{} e"
        " JOIN {}.d_placements p ON p.placement_id = e.originator_id AND p.tenant_id = %s"
        "  AND p.gen = (SELECT gen FROM {}.live WHERE projection = 'directory' AND tenant_id = %s)"
        " WHERE {} GROUP BY e.originator_id ORDER BY count(*) DESC, e.originator_id LIMIT %s"
    ).format(sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table), sql.Identifier(RM),
             sql.Identifier(RM), sql.SQL("e.originator_id = ANY(%s)" if ids is not None else "true"))
    params: tuple = (tenant.id, tenant.id, ids, limit) if ids is not None else (tenant.id, tenant.id, limit)
    with database.connection() as conn:
        return [(r["id"], r["n"]) for r in conn.execute(q, params).fetchall()]


def catch_up_all(database: Any, tenant: Any) -> str:
    parts = []
    for projection in PROJECTIONS:
        t0 = time.perf_counter()
        result = ProjectionRunner(database, projection).catch_up(tenant, wait=True)
        parts.append(f"{projection.name} {getattr(result, 'processed', '?'):,} events "
                     f"{time.perf_counter() - t0:.1f} s")
    return ", ".join(parts)


def analyze(database: Any, tenant: Any) -> None:
    with database.connection() as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(
            sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table)))
        tables = [r["t"] for r in conn.execute(
            "SELECT tablename AS t FROM pg_tables WHERE schemaname = %s", (RM,)).fetchall()]
        for t in tables:  # as autovacuum would have: a rebuild leaves the old generation's rows dead
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(sql.Identifier(RM), sql.Identifier(t)))


BENCH_DATABASE = "sroi_bench_pages"
SLUG = "bench-pages"


def reuse_system() -> Any:
    """The benchmark database a previous run left (not dropped), migrated to this release."""
    from infra.bootstrap import bootstrap
    from infra.database import resolve_database_url, with_database
    from infra.settings import Settings

    settings = Settings.from_env({**os.environ, "SECRET_KEY": "bench", "SERVER_TIMING": "1"})
    url = with_database(resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres"),
                        BENCH_DATABASE)
    return bootstrap(settings, database_url=url)


def build(args: argparse.Namespace) -> Setup:
    if args.reuse:
        system = reuse_system()
        database = system.stores.database("default")
        tenant = system.registry.tenant_by_slug(SLUG)
        with database.connection() as conn:
            events = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
                sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))).fetchone()["n"]
            placements = conn.execute(
                f"SELECT count(*) AS n FROM {RM}.d_placements WHERE tenant_id = %s"
                f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)",
                (tenant.id, tenant.id)).fetchone()["n"]
        say(f"reusing the tenant of a previous run: {events:,} events, {placements:,} placements")
        for name in [n for n in (args.rebuild or "").split(",") if n]:
            projection = next(p for p in PROJECTIONS if p.name == name)
            t0 = time.perf_counter()
            result = ProjectionRunner(database, projection).rebuild(tenant)
            say(f"    rebuilt {name}: {result.processed:,} events in {time.perf_counter() - t0:.1f} s")
        for projection in PROJECTIONS:  # as the worker does after an upgrade
            t0 = time.perf_counter()
            result = ProjectionRunner(database, projection).rebuild_if_outdated(tenant)
            if result is not None:
                say(f"    rebuilt {projection.name} (now version {projection.version}): "
                    f"{result.processed:,} events in {time.perf_counter() - t0:.1f} s")
        say(f"    caught up: {catch_up_all(database, tenant)}")
        analyze(database, tenant)
        return _setup(system, database, tenant, events, placements, args, build=False)
    system = bench_system(BENCH_DATABASE)
    database = system.stores.database("default")
    big = min(2000, args.placements * 2 // 10)
    small = min(100, args.placements // 20)
    note(f"building a tenant of {args.placements:,} placements, {args.feedback} feedback events each "
         f"(~{args.placements * events_per_placement(args.feedback):,.0f} events) ...")
    hist = build_history(system, SLUG, placements=args.placements, feedback=args.feedback,
                         big=big, small=small, seed=11)
    tenant = hist.tenant
    say(f"tenant: {hist.events:,} events, {hist.placements:,} placements, {args.feedback} feedback events "
        f"per placement; generated in {hist.build_s:.1f} s, stored in {hist.store_s:.1f} s")
    note("catching up the projections ...")
    say(f"    caught up: {catch_up_all(database, tenant)}")
    return _setup(system, database, tenant, hist.events, hist.placements, args, build=True)


def _setup(system: Any, database: Any, tenant: Any, events: int, placements: int, args: argparse.Namespace, *,
           build: bool) -> Setup:
    # Heavy placements: active ones, given many more feedback events through
    # the service layer (a placement followed weekly for years).
    with database.connection() as conn:
        active = [r["placement_id"] for r in conn.execute(
            f"SELECT placement_id FROM {RM}.d_placements WHERE tenant_id = %s AND ended_on IS NULL"
            f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)"
            " ORDER BY placement_id LIMIT 400", (tenant.id, tenant.id)).fetchall()]
        names = [r["full_name"] for r in conn.execute(
            f"SELECT full_name FROM {RM}.d_candidates WHERE tenant_id = %s"
            f" AND gen = (SELECT gen FROM {RM}.live WHERE projection = 'directory' AND tenant_id = %s)"
            " ORDER BY candidate_id LIMIT 40", (tenant.id, tenant.id)).fetchall()]
    rng = random.Random(5)
    heavy_ids = active[:args.heavy]
    feedback_targets = active[args.heavy:args.heavy + 50]
    actor = Actor(user_id=uuid.UUID(int=7), role="agency", organisation="Werkgeversservicepunt")
    if build and heavy_ids and args.heavy_feedback:
        note(f"giving {args.heavy_feedback} feedback events to each of {len(heavy_ids)} placements "
             "through Ledger.execute ...")
        t0 = time.perf_counter()
        for _ in range(args.heavy_feedback):
            for p in heavy_ids:
                system.ledger.execute(tenant, actor, c.GiveFeedback(
                    placement_id=p, score=rng.randint(2, 5), from_role=rng.choice(["coach", "agency"]),
                    comment=rng.choice(FEEDBACK_COMMENTS)))
        say(f"    {len(heavy_ids) * args.heavy_feedback:,} GiveFeedback commands for the heavy placements in "
            f"{time.perf_counter() - t0:.1f} s; caught up: {catch_up_all(database, tenant)}")
    if build:
        analyze(database, tenant)

    busy = placement_event_counts(database, tenant, limit=20)
    busy = [b for b in busy if b[0] not in heavy_ids][:10]
    heavy = placement_event_counts(database, tenant, ids=heavy_ids, limit=len(heavy_ids)) if heavy_ids else []
    if build:
        system.registry.create_user(tenant, EMAIL, "agency", password=PASSWORD)
    broad = ["ka", "kan", "kandidaat", "kandidaat 1", "logistiek", "heftr", "schoonm", "data"]
    narrow = names[:20] + [n[:14] for n in names[20:40]]
    return Setup(system=system, tenant=tenant,
                 events=events + (len(heavy_ids) * args.heavy_feedback if build else 0), placements=placements, busy=busy, heavy=heavy, feedback_targets=feedback_targets,
                 search_broad=broad, search_narrow=narrow)

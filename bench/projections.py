"""Read-side benchmarks: projection rebuild, projection lag, compliance query.

(a) Rebuild of the compliance and retention projections over N events
    (default 1,000,000) of one realistic tenant: events/s of each
    ProjectionRunner.rebuild, against a raw read and decode of the same events
    in the same run (psycopg, same connection kind, same keyset-paginated
    SELECT in batches of the runner's batch size, every state decoded with
    make_transcoder().decode: the work the engine does before it applies).
    The history is built fast but realistically: commands go through the
    service layer's own handlers (service.handlers.HANDLERS) on aggregates kept
    in memory (employers, contracts, ~N/52 candidates and placements, each
    placement with its contribution and valuation, decisions, hours changes,
    ~45 feedback events given through the domain with their dates, some
    ended, some via a vacancy); each command's events are mapped with the
    tenant's mapper under its own metadata (event_metadata, and the
    placement's candidate for personal data), then all events are ordered by
    simulated time (placements interleaved as they happen) and stored with
    the tenant's recorder (TenantRecorder.insert_events) in chunks of 5,000.
    Raw passes and rebuilds alternate; each rebuild is compared with the raw
    passes either side of it.
(b) Projection lag, commit to read-model row, while ~200 GiveFeedback
    commands/s are written through Ledger.execute by this process and a real
    worker (`python -m infra.cli worker`) projects: p50/p95/max, for the
    retention projection (which reads FeedbackGiven) and for every projection
    of the tenant (rm.live; what wait_for_position waits for with all names). PostgreSQL broker (default), then
    RabbitMQ if it answers.
(c) compliance_for_contract (asyncpg) latency for a contract with ~10,000
    placements (worst case: every one with segments) and one with ~100, over
    calls with varying as_of; per-statement split; floor: one sum over the
    contract's segments. Uses the tenant of (a) when it has a 10,000-placement
    contract (--events >= ~850,000), else builds one (10,500 placements, few
    feedback events) and projects it.

Usage: python bench/projections.py [--events 1000000] [--only a,b,c]
       [--batch-size 2000] [--rate 200] [--seconds 20] [--threads N] [--calls 200]
       [--rabbit amqp://guest:guest@127.0.0.1:5672/ | --rabbit none] [--profile] [--explain]
Quick run: --events 200000. Databases: sroi_bench_proj, sroi_bench_lag,
sroi_bench_lag_amqp (dropped and created fresh by each run).
Prints figures; asserts nothing (targets in brackets).
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
from eventsourcing.application import AggregateNotFoundError  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.common import AGENCY, bench_system, note, percentile, proc_cpu_s, say, seed_placement  # noqa: E402
from domain.contribution import Contribution  # noqa: E402
from domain.placement import Placement  # noqa: E402
from domain.values import END_REASONS  # noqa: E402
from infra import processes  # noqa: E402
from infra.eventstore import SCHEMA as EVENTS_SCHEMA  # noqa: E402
from infra.eventstore import Tenant, TenantApplication, event_metadata, make_transcoder  # noqa: E402
import projections.compliance as compliance_module  # noqa: E402
from projections.compliance import ComplianceProjection, compliance_for_contract  # noqa: E402
from projections.base import RM  # noqa: E402
from projections.writer import ProjectionRunner  # noqa: E402
from projections.retention import RetentionProjection  # noqa: E402
from service import commands as c  # noqa: E402
from service.actor import Actor  # noqa: E402
from service.handlers import HANDLERS  # noqa: E402
from service.unit import Unit  # noqa: E402

try:  # whose personal data a placement's events carry, as the ledger sets it around save
    from infra.personal_data import placement_candidates
except ImportError:  # pragma: no cover - older tree
    placement_candidates = None

BASE_DAY = date(2024, 1, 1)
BASE_DT = datetime(2024, 1, 1, 8, 0, tzinfo=timezone.utc)
START_SPAN_DAYS = 700            # placements start over 2024-01 .. 2025-12
FEEDBACK_EVERY_DAYS = 7          # weekly feedback, give or take two days
INSERT_CHUNK = 5000
USERS = [uuid.UUID(int=1000 + i) for i in range(12)]
TARGET_GROUPS = ["participatiewet", "doelgroepregister", "wajong", "wia_wao", "ww",
                 "vso_pro_mbo1", "bbl", "bol", "no_benefit"]
COMPETENCES = ["groenonderhoud", "logistiek", "schoonmaak", "administratie", "horeca",
               "metselen", "heftruck", "klantcontact", "data-analyse", "montage"]
COMMENTS = ["", "Goed bezig", "Komt op tijd, werkt zelfstandig.",
            "Heeft meer begeleiding nodig bij nieuwe taken; gesprek met coach ingepland.",
            "Prima week.", "Loopt goed mee in het team, wil graag meer uren.",
            "Afwezig geweest wegens ziekte, nu weer aan de slag."]
HOURS = [Decimal("16"), Decimal("20"), Decimal("24"), Decimal("28"), Decimal("32"), Decimal("36")]


# ---------------------------------------------------------------------------
# (a) history generation


@dataclass
class History:
    tenant: Tenant
    events: int = 0
    placements: int = 0
    big_contract: uuid.UUID | None = None
    big_placements: int = 0
    small_contract: uuid.UUID | None = None
    small_placements: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    build_s: float = 0.0
    store_s: float = 0.0


class HistoryBuilder:
    """Commands through the service layer's own handlers (service.handlers.HANDLERS)
    on aggregates kept in memory, dated in simulated time; their events are
    mapped with the tenant's mapper under per-command metadata and stored,
    ordered by that time, with the tenant's recorder."""

    def __init__(self, app: TenantApplication, rng: random.Random, rule_sets: Any = None):
        self.app, self.rng, self.rule_sets = app, rng, rule_sets
        self.items: list[tuple[float, int, Any]] = []  # (sim day, seq, StoredEvent)
        self.seq = 0
        self.counts: dict[str, int] = {}
        self.to_stored = app.mapper.to_stored_event
        self.aggregates: dict[uuid.UUID, Any] = {}

    def _load(self, ident: uuid.UUID) -> Any:
        try:
            return self.aggregates[ident]
        except KeyError:
            raise AggregateNotFoundError(ident) from None

    def execute(self, day: float, actor: Actor, cmd: Any) -> uuid.UUID:
        """One command through its service-layer handler; returns body["id"]."""
        # The platform's rule sets, as the ledger gives them: a contract pins one.
        unit = Unit(app=self.app, actor=actor, rule_sets=self.rule_sets)
        unit.load = self._load  # type: ignore[method-assign]  # in memory, not the repository
        outcome = HANDLERS[type(cmd)].handler(unit, cmd)
        for agg in outcome.saved:
            self.aggregates[agg.id] = agg
        self.record(day, actor, *outcome.saved)
        return uuid.UUID(outcome.body["id"]) if "id" in outcome.body else None

    def record(self, day: float, actor: Actor, *aggregates: Any) -> None:
        """The pending events of `aggregates` as one command at sim `day`."""
        when = BASE_DT + timedelta(days=day)
        token = event_metadata.set({
            "user_id": str(actor.user_id), "role": actor.role, "organisation": actor.organisation,
            "correlation_id": str(uuid.uuid4()), "recorded_at": when.isoformat(),
        })
        subjects = (placement_candidates.set({a.id: a.candidate_id for a in aggregates
                                              if isinstance(a, Placement)})
                    if placement_candidates is not None else None)
        try:
            for agg in aggregates:
                for ev in agg.collect_events():
                    object.__setattr__(ev, "timestamp", when)  # events are frozen dataclasses
                    self.seq += 1
                    self.items.append((day, self.seq, self.to_stored(ev)))
                    name = type(ev).__name__
                    self.counts[name] = self.counts.get(name, 0) + 1
        finally:
            event_metadata.reset(token)
            if subjects is not None:
                placement_candidates.reset(subjects)

    def store(self) -> float:
        self.items.sort(key=lambda item: (item[0], item[1]))
        recorder = self.app.tenant_recorder
        t0 = time.perf_counter()
        for i in range(0, len(self.items), INSERT_CHUNK):
            recorder.insert_events([item[2] for item in self.items[i:i + INSERT_CHUNK]])
        return time.perf_counter() - t0


def events_per_placement(feedback: int) -> float:
    # candidate 1, start 1, contribution ~2 (reported, valued), decision ~0.65,
    # hours ~1.5, end ~0.3, vacancy ~0.3 (opened, matched, filled for 10%).
    return 6.75 + feedback


def build_history(system: Any, slug: str, *, placements: int, feedback: int, big: int, small: int,
                  seed: int = 42) -> History:
    rng = random.Random(seed)
    tenant = system.registry.create_tenant(slug, f"Bench {slug}")
    app = system.stores.for_tenant(tenant)
    b = HistoryBuilder(app, rng, system.ledger.rule_sets)
    t0 = time.perf_counter()
    agency = [Actor(user_id=u, role="agency", organisation="Werkgeversservicepunt") for u in USERS]
    feedback_actor = Actor(user_id=uuid.UUID(int=3000), role="agency", organisation="Werkgeversservicepunt")
    authorities = ["Gemeente Utrecht", "Gemeente Harlingen", "Provincie Utrecht"]
    deciders = {a: Actor(user_id=uuid.UUID(int=2000 + i), role="authority", organisation=a)
                for i, a in enumerate(authorities)}

    employers = [b.execute(-90 + i * 0.01, agency[0], c.RegisterEmployer(name=f"Werkgever {i} B.V."))
                 for i in range(6)]
    contract_employer: dict[uuid.UUID, uuid.UUID] = {}
    contract_authority: dict[uuid.UUID, str] = {}

    def contract(i: int, employer: uuid.UUID, rule_set: str, value: str) -> uuid.UUID:
        authority = authorities[i % len(authorities)]
        k = b.execute(-80 + i * 0.01, agency[0], c.RegisterContract(
            employer_id=employer, title=f"Raamovereenkomst {i}", contracting_authority=authority,
            contract_value_eur=Decimal(value), obligation_percent=Decimal("5"),
            starts_on=date(2024, 1, 1), ends_on=date(2027, 12, 31), awarded_on=date(2023, 11, 1),
            rule_set=rule_set))
        contract_employer[k], contract_authority[k] = employer, authority
        return k

    big_k = contract(0, employers[0], "utrecht-2024", "250000000")
    small_k = contract(1, employers[1], "harlingen-2024", "4000000")
    others = [contract(2 + i, employers[i % 6], ["utrecht-2024", "harlingen-2024"][i % 2], "30000000")
              for i in range(8)]
    # Which contract each placement counts toward (None: none), shuffled so
    # the contracts' placements are interleaved in time.
    rest = placements - big - small
    if rest < 0:
        raise ValueError("placements < big + small")
    n_none = rest * 3 // 100
    assignment: list[uuid.UUID | None] = [big_k] * big + [small_k] * small
    assignment += [others[i % len(others)] for i in range(rest - n_none)] + [None] * n_none
    rng.shuffle(assignment)

    for k in assignment:
        actor = rng.choice(agency)
        employer = contract_employer[k] if k is not None else rng.choice(employers)
        start = rng.uniform(0, START_SPAN_DAYS)
        starts_on = BASE_DAY + timedelta(days=int(start))
        born = date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28))
        reg_day = start - rng.uniform(1, 60)
        benefit = (born + timedelta(days=365 * 18 + rng.randint(0, 2000))) if rng.random() < 0.7 else None
        if benefit is not None and benefit > BASE_DAY + timedelta(days=int(reg_day)):
            benefit = None
        cand = b.execute(reg_day, actor, c.RegisterCandidate(
            full_name=f"Kandidaat {rng.randint(1, 10**9)}", date_of_birth=born,
            target_group=rng.choice(TARGET_GROUPS), competences=rng.sample(COMPETENCES, 3),
            support_needs=rng.choice(["", "Vaste begeleider op de werkvloer.", "Rustige werkplek."]),
            benefit_since=benefit, status_holder=rng.random() < 0.1))

        vacancy = None
        if rng.random() < 0.10:
            opened = start - rng.uniform(20, 120)
            vacancy = b.execute(opened, actor, c.OpenVacancy(
                employer_id=employer, title="Medewerker groen", required_competences=["groenonderhoud"],
                optional_competences=[], hours_per_week=Decimal("32"),
                opened_on=BASE_DAY + timedelta(days=int(opened))))
            b.execute(start - rng.uniform(1, 15), actor, c.MatchCandidate(vacancy_id=vacancy, candidate_id=cand))

        placement_id = b.execute(start, actor, c.StartPlacement(
            candidate_id=cand, employer_id=employer, contract_id=k, vacancy_id=vacancy,
            starts_on=starts_on, hours_per_week=rng.choice(HOURS), permanent_contract=rng.random() < 0.2))
        placement = b.aggregates[placement_id]

        # Later commands on this placement, in time order.
        actions: list[tuple[float, str]] = []
        last_fb = start
        for i in range(feedback):
            last_fb = start + FEEDBACK_EVERY_DAYS * (i + 1) + rng.uniform(-2, 2)
            actions.append((last_fb, "feedback"))
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3])):
            actions.append((rng.uniform(start + 1, max(last_fb, start + 30)), "hours"))
        if k is not None:
            r = rng.random()
            if r < 0.65:
                actions.append((start + rng.uniform(14, 120), "accept" if r < 0.60 else "reject"))
        if rng.random() < 0.30:
            actions.append((max(last_fb, start + 30) + rng.uniform(1, 60), "end"))
        actions.sort()
        for day, kind in actions:
            on = max(BASE_DAY + timedelta(days=int(day)), starts_on)
            if kind == "feedback":
                # Through the domain: GiveFeedback has no date (it is "today"),
                # and a history needs feedback dated when it was given.
                placement.give_feedback(rng.randint(1, 5), rng.choice(["coach", "employer", "employee"]),
                                        rng.choice(COMMENTS), given_on=on)
                b.record(day, feedback_actor, placement)
            elif kind == "hours":
                b.execute(day, actor, c.ChangeHours(placement_id=placement_id,
                                                    hours_per_week=rng.choice(HOURS), effective_on=on))
            elif kind == "end":
                b.execute(day, actor, c.EndPlacement(placement_id=placement_id, ends_on=on,
                                                     reason=rng.choice(END_REASONS)))
            else:
                decider = deciders[contract_authority[k]]
                contribution = Contribution.id_for_placement(placement_id)
                if kind == "accept":
                    b.execute(day, decider, c.AcceptContribution(contribution_id=contribution, decided_on=on))
                else:
                    b.execute(day, decider, c.RejectContribution(
                        contribution_id=contribution, reason="Geen geldige doelgroepverklaring", decided_on=on))
    build_s = time.perf_counter() - t0
    store_s = b.store()
    return History(tenant=tenant, events=len(b.items), placements=placements,
                   big_contract=big_k, big_placements=big, small_contract=small_k,
                   small_placements=small, counts=b.counts, build_s=build_s, store_s=store_s)


# ---------------------------------------------------------------------------
# (a) raw baseline and rebuilds


@dataclass
class RawPass:
    events: int
    seconds: float
    fetch_s: float
    decode_s: dict[str, float]  # projection name (or "all") -> decode seconds of its events


def raw_pass(database: Any, tenant: Tenant, batch_size: int, projections: list[Any]) -> RawPass:
    """SELECT ... ORDER BY notification_id in batches (keyset), decode every state.

    Decode time is split by which projection handles the event, so the floor
    for each projection (read all, decode only what it handles) is known too."""
    transcoder = make_transcoder()
    select = sql.SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}"
        " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
    ).format(sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))
    names: dict[str, str] = {}
    handled_by = {p.name: p.handles for p in projections}
    decode_by_name: dict[str, float] = {}
    fetch_s, n, position = 0.0, 0, 0
    clock = time.perf_counter
    t0 = clock()
    with database.connection() as conn:
        while True:
            t = clock()
            rows = conn.execute(select, (position, batch_size)).fetchall()
            fetch_s += clock() - t
            if not rows:
                break
            for r in rows:
                topic = r["topic"]
                name = names.get(topic)
                if name is None:
                    name = names[topic] = topic.rsplit(".", 1)[-1]
                t = clock()
                transcoder.decode(bytes(r["state"]))
                decode_by_name[name] = decode_by_name.get(name, 0.0) + clock() - t
            n += len(rows)
            position = rows[-1]["notification_id"]
    seconds = clock() - t0
    decode_s = {"all": sum(decode_by_name.values())}
    for p, handles in handled_by.items():
        decode_s[p] = sum(v for k, v in decode_by_name.items() if k in handles)
    return RawPass(n, seconds, fetch_s, decode_s)


def rebuild(database: Any, tenant: Tenant, projection: Any, batch_size: int,
            profile: bool = False) -> tuple[int, float, str]:
    runner = ProjectionRunner(database, projection, batch_size=batch_size)
    done = [0]
    step = [200_000]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] >= step[0]:
            note(f"    ... {projection.name}: {done[0]:,} events")
            step[0] += 200_000

    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    result = runner.rebuild(tenant, progress)
    if prof:
        prof.disable()
    elapsed = time.perf_counter() - t0
    text = ""
    if prof:
        out = io.StringIO()
        stats = pstats.Stats(prof, stream=out)
        stats.sort_stats("tottime").print_stats(18)
        stats.sort_stats("cumulative").print_stats(30)
        text = out.getvalue()
    return result.processed, elapsed, text


def table_sizes(database: Any, tenant: Tenant) -> str:
    with database.connection() as conn:
        size = conn.execute("SELECT pg_total_relation_size(%s) AS s",
                            (f"{EVENTS_SCHEMA}.{tenant.events_table}",)).fetchone()["s"]
    return f"{size / 2**20:,.0f} MB"


def rm_rows(database: Any, tenant: Tenant, tables: list[str]) -> str:
    parts = []
    with database.connection() as conn:
        for t in tables:
            n = conn.execute(sql.SQL("SELECT count(*) AS n FROM {}.{} WHERE tenant_id = %s").format(
                sql.Identifier(RM), sql.Identifier(t)), (tenant.id,)).fetchone()["n"]
            parts.append(f"{t} {n:,}")
    return ", ".join(parts)


def bench_a(system: Any, n_events: int, batch_size: int, profile: bool) -> History:
    feedback = 45
    placements = max(200, round((n_events - 100) / events_per_placement(feedback)))
    big = min(10_000, placements * 6 // 10)
    small = min(100, placements // 10)
    note(f"(a) building a history of ~{n_events:,} events ({placements:,} placements) ...")
    hist = build_history(system, "bench-proj", placements=placements, feedback=feedback,
                         big=big, small=small)
    database = system.stores.database(hist.tenant.database)
    with database.connection() as conn:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(
            sql.Identifier(EVENTS_SCHEMA), sql.Identifier(hist.tenant.events_table)))
    top = ", ".join(f"{k} {v:,}" for k, v in sorted(hist.counts.items(), key=lambda kv: -kv[1]))
    say(f"(a) history: {hist.events:,} events, {hist.placements:,} placements (contract A "
        f"{hist.big_placements:,}, contract B {hist.small_placements:,}); events table "
        f"{table_sizes(database, hist.tenant)}")
    say(f"    {top}")
    say(f"    generated in {hist.build_s:.1f} s through the service-layer handlers, in memory "
        f"({hist.events / hist.build_s:,.0f} events/s), "
        f"stored in {hist.store_s:.1f} s via TenantRecorder.insert_events in chunks of "
        f"{INSERT_CHUNK:,} ({hist.events / hist.store_s:,.0f} events/s)")

    projections = [ComplianceProjection(), RetentionProjection()]
    # Raw passes and rebuilds alternate (raw, compliance, raw, retention, raw):
    # each rebuild is compared with the raw passes on either side of it, so
    # drift on the machine (other load, autovacuum) hits both. The first raw
    # pass also brings the table into the OS cache.
    raws = [raw_pass(database, hist.tenant, batch_size, projections)]
    rates: dict[str, tuple[int, float, RawPass, RawPass]] = {}
    for p in projections:
        n, s, _ = rebuild(database, hist.tenant, p, batch_size)
        raws.append(raw_pass(database, hist.tenant, batch_size, projections))
        rates[p.name] = (n, s, raws[-2], raws[-1])
    raw_rates = [r.events / r.seconds for r in raws]
    fetch_rate = statistics.fmean(r.events / r.fetch_s for r in raws)
    say(f"    raw read+decode (psycopg, batches of {batch_size:,} by notification_id, every state "
        f"decoded): {statistics.median(raw_rates):,.0f} events/s (median of {len(raws)} passes: "
        f"{', '.join(f'{x:,.0f}' for x in raw_rates)}); fetch alone {fetch_rate:,.0f} events/s")
    for p in projections:
        n, s, before, after = rates[p.name]
        rate = n / s
        raw_rate = statistics.fmean(r.events / r.seconds for r in (before, after))
        floor = statistics.fmean(r.events / (r.fetch_s + r.decode_s[p.name]) for r in (before, after))
        handled = sum(v for k, v in hist.counts.items() if k in p.handles)
        say(f"    rebuild {p.name}: {n:,} events in {s:.1f} s = {rate:,.0f} events/s; ratio to raw "
            f"{rate / raw_rate:.2f} (raw passes either side: {raw_rate:,.0f} events/s; target >= 0.25); "
            f"it handles {handled:,} of them ({handled / hist.events:.0%}); vs read all/decode only "
            f"those: {floor:,.0f} events/s, ratio {rate / floor:.2f}")
    tables = [t.name for p in projections for t in p.tables]
    say(f"    read-model rows: {rm_rows(database, hist.tenant, tables)}")
    if profile:
        for p in projections:
            n, s, text = rebuild(database, hist.tenant, p, batch_size, profile=True)
            say(f"    [profiled rebuild {p.name}: {n:,} events in {s:.1f} s under cProfile, "
                f"incl. dropping the previous generation]")
            say(text)
    return hist


# ---------------------------------------------------------------------------
# (b) projection lag


LIVE_SQL = (f"SELECT l.projection, t.position FROM {RM}.live l JOIN {RM}.tracking t"
            " ON t.projection = l.projection AND t.tenant_id = l.tenant_id AND t.gen = l.gen"
            " WHERE l.tenant_id = %s")


class Poller(threading.Thread):
    """Samples the live positions of the tenant's projections every ~2 ms on
    its own connection; keeps (time the answer arrived, positions) on change."""

    def __init__(self, url: str, tenant: Tenant, every: float = 0.002):
        super().__init__(daemon=True, name="lag-poller")
        self.url, self.tenant, self.every = url, tenant, every
        self.samples: list[tuple[float, int, int]] = []  # (t, retention, min over every projection)
        self.stop = threading.Event()
        self.polls = 0

    def run(self) -> None:
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as conn:
            last = None
            while not self.stop.is_set():
                rows = conn.execute(LIVE_SQL, (self.tenant.id,), prepare=True).fetchall()
                t = time.perf_counter()
                self.polls += 1
                pos = {r[0]: r[1] for r in rows}
                current = (pos.get("retention", 0), min(pos.values(), default=0))
                if current != last:
                    self.samples.append((t, *current))
                    last = current
                time.sleep(self.every)

    def latest(self) -> tuple[int, int]:
        return self.samples[-1][1:] if self.samples else (0, 0)


def first_reaching(samples: list[tuple[float, int, int]], col: int, position: int,
                   start: int) -> tuple[float | None, int]:
    """The time of the first sample (from index `start`) whose column `col`
    reached `position`, and that sample's index."""
    i = start
    while i < len(samples) and samples[i][col] < position:
        i += 1
    return (samples[i][0] if i < len(samples) else None), i


def bench_b(label: str, db_name: str, rate: float, seconds: float, broker_url: str | None,
            threads: int | None) -> None:
    env = {"BROKER_URL": broker_url} if broker_url else {}
    system = bench_system(db_name, **env)
    worker = None
    poller = None
    try:
        tenant = system.registry.create_tenant("bench-lag", "Bench lag")
        placements = [seed_placement(system, tenant) for _ in range(20)]
        wenv = {**os.environ, "DATABASE_URL": system.database_url, "SECRET_KEY": "bench"}
        if broker_url:
            wenv["BROKER_URL"] = broker_url
        else:
            wenv.pop("BROKER_URL", None)
        cmd = [sys.executable, "-m", "infra.cli", "worker"] + (["--threads", str(threads)] if threads else [])
        log_path = f"/tmp/bench-projections-worker-{db_name}.log"
        worker = subprocess.Popen(cmd, env=wenv, cwd=str(Path(__file__).resolve().parent.parent),
                                  stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
        poller = Poller(system.database_url, tenant)
        poller.start()
        ledger = system.ledger

        def give(i: int) -> int:
            return ledger.execute(tenant, AGENCY, c.GiveFeedback(
                placement_id=placements[i % len(placements)], score=1 + i % 5, from_role="agency",
                comment="Goed bezig")).position

        # Ready: the worker has projected a command of ours.
        deadline = time.time() + 90
        pos = give(0)
        while poller.latest()[1] < pos:
            if worker.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"worker did not project within 90 s; see {log_path}")
            time.sleep(0.05)

        def paced(n: int, record: list[tuple[float, int]] | None) -> float:
            t0 = time.perf_counter()
            for i in range(n):
                target = t0 + i / rate
                delay = target - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                p = give(i)
                if record is not None:
                    record.append((time.perf_counter(), p))
            return time.perf_counter() - t0

        paced(int(rate * 2), None)  # warm-up
        commits: list[tuple[float, int]] = []
        cpu0, wall0 = proc_cpu_s(worker.pid), time.perf_counter()
        polls0 = poller.polls
        elapsed = paced(int(rate * seconds), commits)
        last = commits[-1][1]
        deadline = time.time() + 30
        while poller.latest()[1] < last and time.time() < deadline:
            time.sleep(0.01)
        cpu = proc_cpu_s(worker.pid) - cpu0
        wall = time.perf_counter() - wall0
        poll_period = wall / max(poller.polls - polls0, 1)
        poller.stop.set()
        poller.join()
        samples = list(poller.samples)
        lags = {1: [], 2: []}
        missing = 0
        for col in (1, 2):
            idx = 0
            for t_commit, p in commits:
                t_seen, idx = first_reaching(samples, col, p, idx)
                if t_seen is None:
                    missing += 1
                    continue
                lags[col].append(max(0.0, t_seen - t_commit) * 1000)
        changes = sum(1 for a, b in zip(samples, samples[1:]) if b[1] != a[1])
        with system.stores.database(tenant.database).connection() as conn:
            n_projections = conn.execute(f"SELECT count(*) AS n FROM {RM}.live WHERE tenant_id = %s",
                                         (tenant.id,)).fetchone()["n"]
        say(f"(b) projection lag, {label}: {len(commits):,} GiveFeedback commands at "
            f"{len(commits) / elapsed:,.0f}/s for {elapsed:.1f} s; worker `infra.cli worker`"
            f"{' --threads ' + str(threads) if threads else ''} used {cpu / wall:.0%} of a core; poll every "
            f"{poll_period * 1000:.1f} ms")
        for col, what in ((1, "retention (r_feedback)"), (2, f"all {n_projections} projections")):
            ms = lags[col]
            if ms:
                say(f"    commit -> {what}: p50 {percentile(ms, 50):.1f} ms, p95 {percentile(ms, 95):.1f} ms, "
                    f"p99 {percentile(ms, 99):.1f} ms, max {max(ms):.1f} ms"
                    + (" (target p95 < 250 ms)" if col == 1 else ""))
        say(f"    retention position advanced {changes:,} times ({len(commits) / max(changes, 1):.1f} "
            f"commands per projection step){f'; {missing} commands never seen' if missing else ''}")
    finally:
        if poller is not None:
            poller.stop.set()
        if worker is not None:
            processes.stop([worker])
        system.close()


def rabbit_reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# (c) compliance query


FLOOR_SQL = f"""
SELECT sum(s.numerator * (least(s.to_day, $3::date) - s.from_day + 1)) / min(s.denominator)
FROM {RM}.c_segments s
WHERE s.tenant_id = $1 AND s.gen = (SELECT gen FROM {RM}.live WHERE projection = 'compliance'
  AND tenant_id = $1) AND s.contract_id = $2 AND s.from_day <= $3
"""


def bench_c(system: Any, hist: History | None, calls: int, explain: bool) -> None:
    database = system.stores.database("default")
    if hist is None or hist.big_placements < 10_000:
        note("(c) building a tenant with a 10,000-placement contract ...")
        hist = build_history(system, "bench-compliance", placements=10_500, feedback=2,
                             big=10_000, small=100, seed=7)
        t0 = time.perf_counter()
        ProjectionRunner(database, ComplianceProjection()).catch_up(hist.tenant)
        say(f"(c) tenant: {hist.events:,} events, {hist.placements:,} placements (few feedback events);"
            f" compliance projected in {time.perf_counter() - t0:.1f} s")
    else:
        say(f"(c) tenant of (a): {hist.events:,} events, {hist.placements:,} placements")
    tenant = hist.tenant
    rng = random.Random(3)

    async def run() -> None:
        pool = await asyncpg.create_pool(system.database_url, min_size=1, max_size=2)
        try:
            for label, contract_id, n in (("contract A", hist.big_contract, hist.big_placements),
                                          ("contract B", hist.small_contract, hist.small_placements)):
                async with pool.acquire() as conn:
                    segs = await conn.fetchval(
                        f"SELECT count(*) FROM {RM}.c_segments WHERE tenant_id = $1 AND contract_id = $2",
                        tenant.id, contract_id)
                    contrib = await conn.fetchval(
                        f"SELECT count(*) FROM {RM}.c_contributions WHERE tenant_id = $1 AND contract_id = $2",
                        tenant.id, contract_id)
                days = [date(2024, 1, 1) + timedelta(days=rng.randint(0, 4 * 365)) for _ in range(calls)]
                for d in days[:20]:  # warm-up (plans, buffers)
                    await compliance_for_contract(pool, tenant.id, contract_id, d)
                times = []
                for d in days:
                    t = time.perf_counter()
                    await compliance_for_contract(pool, tenant.id, contract_id, d)
                    times.append((time.perf_counter() - t) * 1000)
                # The same per statement, and the floor.
                split = {"contract": [], "placement value": [], "other value": [], "statement figures": [],
                         "forecast stops": [], "floor": []}
                CONTRACT_SQL = getattr(compliance_module, "CONTRACT_SQL", None)
                PLACEMENT_VALUE_SQL = getattr(compliance_module, "PLACEMENT_VALUE_SQL", None)
                OTHER_VALUE_SQL = getattr(compliance_module, "OTHER_VALUE_SQL", None)
                STATEMENT_FIGURES_SQL = getattr(compliance_module, "STATEMENT_FIGURES_SQL", None)
                STOPS_SQL = getattr(compliance_module, "STOPS_SQL", None)
                statements = (CONTRACT_SQL and PLACEMENT_VALUE_SQL and OTHER_VALUE_SQL and STATEMENT_FIGURES_SQL
                              and STOPS_SQL)
                plan = None
                try:
                    async with pool.acquire() as conn:
                        for d in days[:50] if statements else []:
                            t = time.perf_counter()
                            row = await conn.fetchrow(CONTRACT_SQL, tenant.id, contract_id)
                            t1 = time.perf_counter()
                            until = min(d, row["ends_on"])
                            await conn.fetch(PLACEMENT_VALUE_SQL, tenant.id, contract_id, until,
                                             row["starts_on"], row["ends_on"])
                            t2 = time.perf_counter()
                            await conn.fetch(OTHER_VALUE_SQL, tenant.id, contract_id, d)
                            t3 = time.perf_counter()
                            await conn.fetchrow(STATEMENT_FIGURES_SQL, tenant.id, contract_id, d)
                            t4 = time.perf_counter()
                            await conn.fetchrow(STOPS_SQL, tenant.id, contract_id, until)
                            t5 = time.perf_counter()
                            await conn.fetchval(FLOOR_SQL, tenant.id, contract_id, until)
                            t6 = time.perf_counter()
                            for k, v in zip(split, (t1 - t, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5)):
                                split[k].append(v * 1000)
                        if explain and statements:
                            row = await conn.fetchrow(CONTRACT_SQL, tenant.id, contract_id)
                            plan = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + PLACEMENT_VALUE_SQL, tenant.id,
                                                    contract_id, date(2026, 6, 30), row["starts_on"], row["ends_on"])
                except Exception as e:  # the statements' parameters changed: skip the split
                    say(f"      per-statement split skipped ({type(e).__name__}: {e})")
                    statements = None
                say(f"    compliance_for_contract {label} ({n:,} placements, {segs:,} segments, "
                    f"{contrib:,} contributions), {calls} calls, as_of varying over the term: "
                    f"p50 {percentile(times, 50):.2f} ms, p95 {percentile(times, 95):.2f} ms, "
                    f"max {max(times):.2f} ms" + (" (target p95 < 20 ms)" if n >= 10_000 else ""))
                if statements:
                    say("      per statement (median of 50): " + ", ".join(
                        f"{k} {statistics.median(v):.2f} ms" for k, v in split.items()
                    ) + " (floor: one sum over the contract's segments, no join, no quarters)")
                if plan:
                    say("      EXPLAIN ANALYZE placement value:")
                    for r in plan:
                        say("        " + r[0])
        finally:
            await pool.close()

    asyncio.run(run())


# ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch-size", type=int, default=2000, help="ProjectionRunner batch size (default as the worker's)")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=None, help="worker threads (default: the CLI's)")
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--rabbit", default="amqp://guest:guest@127.0.0.1:5672/",
                    help="RabbitMQ URL for the second lag run, or 'none'")
    ap.add_argument("--profile", action="store_true", help="also rebuild each projection under cProfile")
    ap.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the placement value query")
    ap.add_argument("--only", default="a,b,c")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    say(f"PostgreSQL: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded (pgserver)'}")
    hist = None
    if parts & {"a", "c"}:
        system = bench_system("sroi_bench_proj")
        try:
            if "a" in parts:
                hist = bench_a(system, args.events, args.batch_size, args.profile)
            if "c" in parts:
                bench_c(system, hist, args.calls, args.explain)
        finally:
            system.close()
    if "b" in parts:
        bench_b("PostgreSQL broker", "sroi_bench_lag", args.rate, args.seconds, None, args.threads)
        if args.rabbit != "none":
            if rabbit_reachable(args.rabbit):
                bench_b("RabbitMQ broker", "sroi_bench_lag_amqp", args.rate, args.seconds, args.rabbit,
                        args.threads)
            else:
                say(f"(b) RabbitMQ at {args.rabbit}: not reachable, skipped")


if __name__ == "__main__":
    main()

"""The worker process: consumes the broker's queues with dramatiq's Worker.

Run programmatically (not through the `dramatiq` CLI) so the worker is built
by the same composition root as the web process, from settings passed in,
with nothing wired at import time. Scale by starting more processes.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

import dramatiq

from infra.actors import declare_actors
from infra.audit import HeadSigner
from infra.bootstrap import ImportProcesses, System
from infra.broker import install_broker
from infra.logsafe import describe

log = logging.getLogger("sroi.worker")


def run_worker(system: System, threads: int = 4, stop: threading.Event | None = None,
               sweep_seconds: float = 2.0, sign_heads_seconds: float | None = None,
               reminders_seconds: float = 3600.0, notify_seconds: float = 60.0) -> None:
    broker = system.broker
    install_broker(broker)
    actors = declare_actors(broker, system)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    worker.start()
    if isinstance(system.ledger.batch_processes, ImportProcesses):
        # A large import's batches run in children of this process, forked by
        # a fork server: started now, beside the work, not at the first import.
        threading.Thread(target=system.ledger.batch_processes.warm, name="fork server", daemon=True).start()
    # Heads: signed here, not through the queue, so a backlog of projection
    # work cannot stretch the bound HEAD_SIGN_SECONDS promises.
    signer = HeadSigner(system.settings)
    jobs = [Job(sweep_seconds, actors["sweep"]),
            Job(sign_heads_seconds or system.settings.head_sign_seconds,
                lambda: signer.run(system.stores.database("default"), system.stores.databases,
                                   system.registry.list_tenants())),
            # Duty reminders: recorded once per duty and due date however often this
            # runs; the first run a minute after start, once the sweep has caught up.
            Job(reminders_seconds, lambda: actors["remind_duties"].send(), first_after=60.0),
            # Spreadsheet previews nobody confirmed within PREVIEW_DAYS: their files go;
            # finished webhook deliveries older than WEBHOOK_LOG_DAYS leave the log.
            Job(reminders_seconds, system.imports.expire_previews, first_after=60.0),
            Job(reminders_seconds, system.webhooks.prune, first_after=60.0),
            # Statement notifications: each (notice, recipient) once, however often this runs.
            Job(notify_seconds, lambda: actors["notify_statements"].send(), first_after=notify_seconds),
            # Webhooks: deliveries due every few seconds (the safety net for lost
            # messages; each delivery is sent once however often this runs); the
            # followed tenants' logs less often (each catch-up follows its tenant
            # at once; with an organisation's subscription this reads every tenant).
            Job(sweep_seconds, lambda: actors["webhooks_sweep"].send(False)),
            Job(system.settings.webhook_follow_seconds, lambda: actors["webhooks_sweep"].send(True),
                first_after=system.settings.webhook_follow_seconds)]
    sweeper = threading.Thread(target=_scheduler, args=(system, jobs, stop),
                               name="scheduler", daemon=True)
    sweeper.start()
    # Catch up whatever happened while no worker ran.
    log.info("worker started: %d threads, actors: %s", threads, ", ".join(sorted(actors)) or "none")
    try:
        stop.wait()
    finally:
        worker.stop()
        sweeper.join(timeout=5)
        log.info("worker stopped")


class Job:
    """A periodic job: `run` every `every` seconds."""

    def __init__(self, every: float, run, first_after: float = 0.0) -> None:
        self.every, self.run = every, run
        self.due = time.monotonic() + first_after if first_after else 0.0


def _scheduler(system: System, jobs: list[Job], stop: threading.Event) -> None:
    """The periodic jobs, run by one worker at a time (an advisory lock decides
    which): the projection sweep (every few seconds, the safety net for lost
    messages), head signing (every HEAD_SIGN_SECONDS, the tenants whose chain
    moved) duty reminders (hourly), statement notifications (every minute) and
    the webhooks sweep (every few seconds), as
    dramatiq messages."""
    while not stop.is_set():
        try:
            with system.stores.database("default").connection() as conn:
                got = conn.execute("SELECT pg_try_advisory_lock(7203) AS ok").fetchone()["ok"]
                if got:
                    try:
                        now = time.monotonic()
                        for job in jobs:
                            if now >= job.due:
                                job.due = now + job.every
                                job.run()
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(7203)")
        except Exception as e:
            log.warning("periodic job failed; retrying: %s", describe(e))
        stop.wait(min(job.every for job in jobs))

"""The worker process: consumes the broker's queues with dramatiq's Worker.

Run programmatically (not through the `dramatiq` CLI) so the worker is built
by the same composition root as the web process, from settings passed in,
with nothing wired at import time. Scale by starting more processes.
"""
from __future__ import annotations

import logging
import signal
import threading

import dramatiq

from infra.bootstrap import System
from infra.broker import install_broker
from projections.actors import declare_actors

log = logging.getLogger("sroi.worker")


def run_worker(system: System, threads: int = 4, stop: threading.Event | None = None,
               sweep_seconds: float = 2.0) -> None:
    broker = system.broker
    install_broker(broker)
    actors = declare_actors(broker, system)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    worker.start()
    sweeper = threading.Thread(target=_sweep_loop, args=(system, actors["sweep"], stop, sweep_seconds),
                               name="projection-sweep", daemon=True)
    sweeper.start()
    # Catch up whatever happened while no worker ran.
    log.info("worker started: %d threads, actors: %s", threads, ", ".join(sorted(actors)) or "none")
    try:
        stop.wait()
    finally:
        worker.stop()
        sweeper.join(timeout=5)
        log.info("worker stopped")


def _sweep_loop(system: System, sweep, stop: threading.Event, every: float) -> None:
    """Every few seconds, one worker (an advisory lock decides which) enqueues
    the tenants whose projections are behind: the safety net for lost messages."""
    while not stop.is_set():
        try:
            with system.stores.database("default").connection() as conn:
                got = conn.execute("SELECT pg_try_advisory_lock(7203) AS ok").fetchone()["ok"]
                if got:
                    try:
                        sweep()
                    finally:
                        conn.execute("SELECT pg_advisory_unlock(7203)")
        except Exception:
            log.warning("projection sweep failed; retrying", exc_info=True)
        stop.wait(every)

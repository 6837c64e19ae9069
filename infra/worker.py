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


def run_worker(system: System, threads: int = 4, stop: threading.Event | None = None) -> None:
    broker = system.broker
    install_broker(broker)
    actors = declare_actors(broker, system)
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=1000)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    worker.start()
    log.info("worker started: %d threads, actors: %s", threads, ", ".join(sorted(actors)) or "none")
    try:
        stop.wait()
    finally:
        worker.stop()
        log.info("worker stopped")

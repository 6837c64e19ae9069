"""Tells the workers "tenant T has new events", after commands commit.

Commands only mark the tenant; a background thread sends the message. The
first change after a quiet spell is sent at once; after a send the thread
waits `interval` before the next, so a stream of commands costs at most one
message per tenant per interval (each message is a broker write here and a
catch-up in a worker: at one per command they cost a command path a third of
its CPU, see docs/performance.md), and a slow or unavailable broker never
slows a command down. Every commit is followed by a message sent after it. A
message that is lost (process killed in between) is caught by the workers'
periodic sweep.
"""
from __future__ import annotations

import logging
import threading
from uuid import UUID

import dramatiq

from infra.logsafe import describe

log = logging.getLogger("sroi.notifier")


class ProjectionNotifier:
    def __init__(self, broker: dramatiq.Broker, queue: str, actor_name: str, interval: float = 0.02):
        self.broker, self.queue, self.actor_name, self.interval = broker, queue, actor_name, interval
        self._dirty: set[UUID] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._declared = False

    def tenant_changed(self, tenant_id: UUID) -> None:
        with self._lock:
            if tenant_id in self._dirty:
                return  # already marked: the thread has not taken it yet, and will
            self._dirty.add(tenant_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="projection-notifier", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self._flush()
            # Changes meanwhile are marked and go out together after the pause.
            if self._stop.wait(self.interval):
                self._flush()  # closing: what was marked still goes out
                return

    def _flush(self) -> None:
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        for tenant_id in dirty:
            try:
                self.send(tenant_id)
            except Exception as e:  # the sweep will find the tenant behind
                log.warning("could not enqueue projection of a tenant; the sweep will catch up: %s",
                            describe(e))

    def send(self, tenant_id: UUID) -> None:
        if not self._declared:
            self.broker.declare_queue(self.queue)
            self._declared = True
        self.broker.enqueue(dramatiq.Message(
            queue_name=self.queue, actor_name=self.actor_name, args=(str(tenant_id),),
            kwargs={}, options={}))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

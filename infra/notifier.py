"""Tells the workers "tenant T has new events", after commands commit.

Commands only mark the tenant; a background thread sends at most one message
per tenant per interval, so a burst of commands costs one message, and a slow
or unavailable broker never slows a command down. A message that is lost
(process killed in between) is caught by the workers' periodic sweep.
"""
from __future__ import annotations

import logging
import threading
from uuid import UUID

import dramatiq

from infra.logsafe import describe

log = logging.getLogger("sroi.notifier")


class ProjectionNotifier:
    def __init__(self, broker: dramatiq.Broker, queue: str, actor_name: str, interval: float = 0.005):
        self.broker, self.queue, self.actor_name, self.interval = broker, queue, actor_name, interval
        self._dirty: set[UUID] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._declared = False

    def tenant_changed(self, tenant_id: UUID) -> None:
        with self._lock:
            self._dirty.add(tenant_id)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="projection-notifier", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            self._stop.wait(self.interval)  # coalesce a burst into one message per tenant
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

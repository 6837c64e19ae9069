"""The read side's dramatiq actors, declared on a given broker.

`project_tenant(tenant_id)`: bring every projection of one tenant up to its
latest event. Sent (coalesced) after commands commit, and by the sweep for
tenants whose tracking is behind. Declared by `declare_actors(broker,
system)` rather than at import time, so importing this module connects to
nothing and tests pass their own broker and system.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID

import dramatiq

from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.registry import TenantNotFound
from projections.engine import Busy, ProjectionRunner
from projections.registry import PROJECTIONS, QUEUE, RETRY_BUSY_MS, behind_tenants

log = logging.getLogger("sroi.projections")


class TenantCache:
    """Tenants by id for the worker; a few seconds stale at most."""

    def __init__(self, system: System, ttl: float = 5.0):
        self.system, self.ttl = system, ttl
        self._items: dict[UUID, tuple[float, Tenant]] = {}
        self._lock = threading.Lock()

    def get(self, tenant_id: UUID) -> Tenant:
        with self._lock:
            item = self._items.get(tenant_id)
        if item and item[0] > time.monotonic():
            return item[1]
        tenant = self.system.registry.tenant_by_id(tenant_id)
        with self._lock:
            self._items[tenant_id] = (time.monotonic() + self.ttl, tenant)
        return tenant


def runners_for(system: System, tenant: Tenant) -> list[ProjectionRunner]:
    database = system.stores.database(tenant.database)
    return [ProjectionRunner(database, projection) for projection in PROJECTIONS]


def declare_actors(broker: dramatiq.Broker, system: System) -> dict[str, Any]:
    """Declare every read-side actor on `broker`; returns them by name."""
    tenants = TenantCache(system)

    def project_tenant(tenant_id: str) -> None:
        try:
            tenant = tenants.get(UUID(tenant_id))
        except (TenantNotFound, ValueError):
            log.warning("project_tenant: unknown tenant %s", tenant_id)
            return
        busy = False
        for runner in runners_for(system, tenant):
            try:
                runner.catch_up(tenant)
            except Busy:
                busy = True
        if busy:
            # Another worker holds this tenant; it may have read before our
            # events committed, so look again shortly rather than drop the call.
            actor.send_with_options(args=(tenant_id,), delay=RETRY_BUSY_MS)

    actor = dramatiq.actor(project_tenant, actor_name="project_tenant", queue_name=QUEUE,
                           broker=broker, max_retries=20, min_backoff=200, max_backoff=30_000)

    def sweep() -> None:
        """Enqueue every tenant whose projections are behind its events."""
        for tenant_id in behind_tenants(system):
            actor.send(str(tenant_id))

    def sign_heads() -> None:
        """Sign every active tenant's chain head (the periodic audit anchor)."""
        from infra import audit

        key = audit.load_signing_key(system.settings)
        for tenant in system.registry.list_tenants():
            if tenant.is_active:
                audit.sign_head(system.stores.database("default"), system.stores.database(tenant.database),
                                tenant, key)

    heads_actor = dramatiq.actor(sign_heads, actor_name="sign_heads", queue_name=QUEUE, broker=broker,
                                 max_retries=3)
    return {"project_tenant": actor, "sweep": sweep, "sign_heads": heads_actor}

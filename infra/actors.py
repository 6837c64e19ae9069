"""The worker's dramatiq actors, declared on a given broker.

`project_tenant(tenant_id)`: bring every projection of one tenant up to its
latest event. Sent (coalesced) after commands commit, and (as
`catch_up_tenant`, on a queue of its own) by the sweep for tenants whose
tracking is behind. A projection that fails on an event is
recorded and backs off (see projections/writer.py) while the tenant's other
projections carry on; the message itself succeeds, so dramatiq does not
retry it: the sweep asks again once the failure's next retry time is due.
Also: `rebuild_outdated`, `sign_heads`, `remind_duties` (the reminders
process manager, service/reminders.py), `notify_statements` (the
notifications process manager, service/notifications.py), `export_tenant_job`,
`deliver_webhook` and `webhooks_sweep` (infra/webhooks.py: after a tenant's
catch-up, its new events become webhook deliveries; each delivery is sent by
`deliver_webhook`, which sends itself again with the retry's delay);
`import_job` (a confirmed spreadsheet import, service/importing.py).

Why here, in infra/, and not in projections/: actors are entry points, like
the CLI and the web app. They take the built `System` (infra/bootstrap.py)
and reach across layers: projections (catch-up, rebuild), service (the
reminders issue commands through the ledger), infra (head signing, export
jobs). Declared in projections/, they made projections import
infra.bootstrap, which imports projections: a cycle, kept alive by imports
inside functions. Here every import is at the top and nothing imports back.

Declared by `declare_actors(broker, system)` rather than at import time, so
importing this module connects to nothing and tests pass their own broker
and system.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any
from uuid import UUID

import dramatiq

from infra import audit, export_jobs, import_store
from infra.bootstrap import System
from infra.eventstore import Tenant
from infra.logsafe import describe
from infra.mail import mailer_from_settings
from infra.registry import REGISTRY_CACHE_SECONDS, TenantNotFound
from projections.registry import (
    BY_NAME,
    CATCH_UP_QUEUE,
    PROJECTIONS,
    QUEUE,
    RETRY_BUSY_MS,
    behind_tenants,
    catch_up_ended,
    claim_catch_ups,
    outdated_generations,
    tenant_behind,
)
from projections.writer import Busy, ProjectionFailed, ProjectionRunner
from service import importing

log = logging.getLogger("sroi.projections")
# Webhook work has a queue of its own: a backlog of deliveries (a subscriber
# down for hours, each try holding a thread up to WEBHOOK_TIMEOUT_SECONDS)
# must never stand in front of the projections' messages. Every worker
# consumes both queues, each with its own prefetch; the worker's threads
# take the waiting message of lowest priority number first, so a
# projection message goes before any delivery already fetched.
WEBHOOK_QUEUE = "webhooks"
DELIVERY_PRIORITY = 100
# The sweep's catch-ups (CATCH_UP_QUEUE): after the commands' own messages,
# before webhook deliveries.
CATCH_UP_PRIORITY = 50


class TenantCache:
    """Tenants by id for the worker; a few seconds stale at most."""

    def __init__(self, system: System, ttl: float = REGISTRY_CACHE_SECONDS):
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
        try:
            if not tenant_behind(tenant, system.stores):
                follow_webhooks(tenant)  # its own position: a subscription may be new
                return
            for runner in runners_for(system, tenant):
                try:
                    runner.catch_up(tenant)
                except Busy:
                    busy = True
                except ProjectionFailed:
                    pass  # recorded and logged by the runner (or still backing off); the others go on
            follow_webhooks(tenant)
        finally:
            if not busy:  # else the worker holding the tenant ends it, and this message comes again
                catch_up_ended(tenant, system.stores)
        if busy:
            # Another worker holds this tenant; it may have read before our
            # events committed, so look again shortly rather than drop the call.
            actor.send_with_options(args=(tenant_id,), delay=RETRY_BUSY_MS)

    actor = dramatiq.actor(project_tenant, actor_name="project_tenant", queue_name=QUEUE,
                           broker=broker, max_retries=20, min_backoff=200, max_backoff=30_000)
    # The same work, sent by the sweep, on its own queue (see CATCH_UP_QUEUE).
    catch_up_actor = dramatiq.actor(project_tenant, actor_name="catch_up_tenant", queue_name=CATCH_UP_QUEUE,
                                    broker=broker, max_retries=20, min_backoff=200, max_backoff=30_000,
                                    priority=CATCH_UP_PRIORITY)

    def follow_webhooks(tenant: Tenant) -> None:
        """The tenant's new events as webhook deliveries, each sent by its own message."""
        try:
            new = system.follow_webhooks(tenant)
        except Exception as e:  # noqa: BLE001 - the sweep follows again
            log.warning("webhooks: following tenant %s failed; the sweep tries again: %s", tenant.id,
                        describe(e))
            return
        for delivery_id in new:
            deliver_actor.send(str(delivery_id))

    def deliver_webhook(delivery_id: str) -> None:
        """One try of one delivery (if it is due and its subscription active);
        a failure that may be retried sends this message again with the delay
        of our own schedule (infra/webhooks.py), not dramatiq's retries."""
        try:
            ident = UUID(delivery_id)
        except ValueError:
            log.warning("deliver_webhook: bad delivery id")
            return
        result = system.webhooks.attempt(ident)
        if result.retry_in is not None:
            deliver_actor.send_with_options(args=(delivery_id,), delay=int(result.retry_in * 1000) + 50)

    # Below the projections' priority (dramatiq: a higher number waits): a
    # subscriber that answers slowly holds a thread for up to
    # WEBHOOK_TIMEOUT_SECONDS, and must not keep a tenant's read models waiting.
    deliver_actor = dramatiq.actor(deliver_webhook, actor_name="deliver_webhook", queue_name=WEBHOOK_QUEUE,
                                   broker=broker, max_retries=0, priority=DELIVERY_PRIORITY)

    def webhooks_sweep(follow: bool = True) -> None:
        """Send every delivery that is due (a lost message, a worker stopped
        mid-send); with `follow`, first follow every tenant some subscription
        follows (a catch-up whose following failed)."""
        for tenant_id in system.webhooks.followed_tenants() if follow else ():
            try:
                follow_webhooks(tenants.get(tenant_id))
            except TenantNotFound:
                continue
        for delivery_id in system.webhooks.due():
            deliver_actor.send(str(delivery_id))

    webhooks_sweep_actor = dramatiq.actor(webhooks_sweep, actor_name="webhooks_sweep", queue_name=WEBHOOK_QUEUE,
                                          broker=broker, max_retries=0, priority=DELIVERY_PRIORITY)

    def rebuild_outdated(tenant_id: str, projection: str) -> None:
        """Rebuild a projection whose live generation an older version built
        (the old one serves readers until the switch)."""
        try:
            tenant = tenants.get(UUID(tenant_id))
        except (TenantNotFound, ValueError):
            log.warning("rebuild_outdated: unknown tenant %s", tenant_id)
            return
        runner = ProjectionRunner(system.stores.database(tenant.database), BY_NAME[projection])
        try:
            result = runner.rebuild_if_outdated(tenant)
        except Busy:
            return  # a rebuild of this tenant is running; the sweep asks again if needed
        except ProjectionFailed:
            return  # recorded and logged; the sweep asks again after its backoff
        if result is not None:
            log.info("rebuilt %s for tenant %s (version %d): %d events", projection, tenant_id,
                     runner.projection.version, result.processed)

    rebuild_actor = dramatiq.actor(rebuild_outdated, actor_name="rebuild_outdated", queue_name=QUEUE,
                                   broker=broker, max_retries=3, time_limit=6 * 3600 * 1000)

    def sweep() -> None:
        """Enqueue every tenant whose projections are behind its events, and
        a rebuild of every generation an older projection version built."""
        tenants = system.registry.list_tenants()
        for tenant_id in claim_catch_ups(behind_tenants(tenants, system.stores), tenants, system.stores):
            catch_up_actor.send(str(tenant_id))
        for tenant_id, projection in outdated_generations(tenants, system.stores):
            rebuild_actor.send(str(tenant_id), projection)

    def sign_heads() -> None:
        """Sign the chain head of every tenant whose chain moved (the worker's
        scheduler does this itself every HEAD_SIGN_SECONDS; this actor is for
        asking from elsewhere)."""
        audit.HeadSigner(system.settings).run(system.stores.database("default"), system.stores.databases,
                                              system.registry.list_tenants())

    heads_actor = dramatiq.actor(sign_heads, actor_name="sign_heads", queue_name=QUEUE, broker=broker,
                                 max_retries=3)

    def remind_duties() -> None:
        """Record (and mail, if SMTP_URL is set) reminders of duties coming due."""
        run = system.remind(mailer_from_settings(system.settings))
        log.info("reminders: %d recorded, %d mailed, %d mail errors", run.recorded, run.mailed,
                 len(run.mail_errors))

    reminders_actor = dramatiq.actor(remind_duties, actor_name="remind_duties", queue_name=QUEUE, broker=broker,
                                     max_retries=3)

    def notify_statements() -> None:
        """Tell of period statements submitted or decided: inbox rows, and
        digests if SMTP_URL is set (service/notifications.py)."""
        run = system.notify(mailer_from_settings(system.settings))
        log.info("notifications: %d notices, %d told, %d mailed, %d mail errors", run.notices, run.told,
                 run.mailed, len(run.mail_errors))

    notify_actor = dramatiq.actor(notify_statements, actor_name="notify_statements", queue_name=QUEUE,
                                  broker=broker, max_retries=3)

    def export_tenant_job(tenant_id: str, job_id: str) -> None:
        """Write a tenant export requested from the audit pages (infra/export_jobs.py)."""
        try:
            tenant, job = tenants.get(UUID(tenant_id)), UUID(job_id)
        except (TenantNotFound, ValueError):
            log.warning("export_tenant_job: unknown tenant %s or job %s", tenant_id, job_id)
            return
        export_jobs.run_export_job(system.stores.database("default"), system.stores.database(tenant.database),
                                   system.settings, tenant, job)

    # The job records its own failure (no retries); a large tenant may take a while.
    export_actor = dramatiq.actor(export_tenant_job, actor_name="export_tenant_job", queue_name=QUEUE,
                                  broker=broker, max_retries=0, time_limit=6 * 3600 * 1000)

    def import_job(tenant_id: str, import_id: str) -> None:
        """Store a confirmed spreadsheet import (service/importing.py run_job),
        its progress on the import's row. A message delivered again stores
        only the rows not stored yet."""
        try:
            tenant, ident = tenants.get(UUID(tenant_id)), UUID(import_id)
        except (TenantNotFound, ValueError):
            log.warning("import_job: unknown tenant %s or import %s", tenant_id, import_id)
            return
        importing.run_job(system.ledger, system.imports, tenant, ident)

    import_actor = dramatiq.actor(import_job, actor_name=import_store.ACTOR_NAME, queue_name=QUEUE,
                                  broker=broker, max_retries=0, time_limit=6 * 3600 * 1000)
    return {"project_tenant": actor, "catch_up_tenant": catch_up_actor, "sweep": sweep,
            "rebuild_outdated": rebuild_actor, "sign_heads": heads_actor,
            "remind_duties": reminders_actor, "notify_statements": notify_actor,
            "export_tenant_job": export_actor, "deliver_webhook": deliver_actor,
            "webhooks_sweep": webhooks_sweep_actor, "import_job": import_actor}

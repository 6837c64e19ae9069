"""The composition root: builds the system from settings. Entry points and
tests differ only in what they pass in; nothing connects at import time.

It is also where the layers meet: the reminders process manager
(service/reminders.py) gets the duties read model (projections/duties.py)
and the agency's users (infra/registry.py) through ports wired here."""
from __future__ import annotations

import dataclasses
import gc
import multiprocessing
import multiprocessing.util
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from domain.valuation import HoursCap
from infra import audit, import_store, inbox, translations, webhooks
from infra.broker import ensure_broker_schema, make_broker
from infra.database import resolve_database_url
from infra.eventstore import EventStoreDatabase, Tenant, TenantStores
from infra.notifier import ProjectionNotifier
from infra.import_store import ImportStore
from infra.documents import DatabaseDocumentStore, DirectoryDocumentStore, DocumentStore, DocumentVault
from infra.personal_data import PersonKeys, load_data_key
from infra.registry import (PlatformAccounts, PlatformOrganisations, TenantRegistry, agency_users,
                            employee_addresses)
from infra.rule_sets import PlatformRuleSets
from infra.settings import Settings
from projections import compliance, duties, notices, shared, voice
from projections.registry import BY_NAME, PROJECTIONS, QUEUE
from projections.writer import BackingOff, ProjectionFailed, ProjectionRunner
from projections.writer import migrate as migrate_read_models
from service import notifications, reminders
from service.ledger import Ledger
from service.ports import Clock, ProcessesLost, SideBySide


class DutiesToRemind:
    """service.reminders.DutiesToRemind over the duties projection: the
    tenant's duties read model is caught up first, then read."""

    def __init__(self, stores: TenantStores):
        self.stores = stores

    def _caught_up(self, tenant: Tenant) -> EventStoreDatabase:
        database = self.stores.database(tenant.database)
        ProjectionRunner(database, BY_NAME[duties.NAME]).catch_up(tenant, wait=True)
        return database

    def coming_due(self, tenant: Tenant, today: date, horizon: date) -> list[dict[str, Any]]:
        with self._caught_up(tenant).connection() as conn:
            return duties.coming_due(conn, tenant.id, today, horizon)

    def unmailed(self, tenant: Tenant, since: date) -> list[dict[str, Any]]:
        with self._caught_up(tenant).connection() as conn:
            return duties.unmailed(conn, tenant.id, since)


class CheckInsToRemind:
    """service.reminders.CheckInsToRemind over the voice projection, caught up
    first (it knows which check-ins were answered or reminded already)."""

    def __init__(self, stores: TenantStores):
        self.stores = stores

    def coming_due(self, tenant: Tenant, today: date, horizon: date) -> list[dict[str, Any]]:
        database = self.stores.database(tenant.database)
        ProjectionRunner(database, BY_NAME[voice.NAME]).catch_up(tenant, wait=True)
        with database.connection() as conn:
            return voice.check_ins_coming_due(conn, tenant.id, today, horizon)


class NoticesToTell:
    """service.notifications.Notices over the notices projection, caught up first."""

    def __init__(self, stores: TenantStores):
        self.stores = stores

    def pending(self, tenant: Tenant, since: date) -> list[dict[str, Any]]:
        database = self.stores.database(tenant.database)
        ProjectionRunner(database, BY_NAME[notices.NAME]).catch_up(tenant, wait=True)
        with database.connection() as conn:
            return notices.pending(conn, tenant.id, since)


class ContractRecords:
    """service.ports.ContractRecords over the compliance read model, caught up
    first (a contribution reported a moment ago is in it). A projection that
    is failing is read as it stands: what it misses surfaces later as a
    correction line of the next statement."""

    def __init__(self, stores: TenantStores):
        self.stores = stores

    def _caught_up(self, tenant: Tenant) -> EventStoreDatabase:
        database = self.stores.database(tenant.database)
        try:
            ProjectionRunner(database, BY_NAME[compliance.NAME]).catch_up(tenant, wait=True)
        except (BackingOff, ProjectionFailed):
            pass
        return database

    def contribution_ids(self, tenant: Tenant, contract_id: UUID) -> list[UUID]:
        with self._caught_up(tenant).connection() as conn:
            return compliance.contribution_ids(conn, tenant.id, contract_id)

    def hours_caps(self, tenant: Tenant, contract_id: UUID) -> dict[UUID, HoursCap]:
        with self._caught_up(tenant).connection() as conn:
            return compliance.hours_caps(conn, tenant.id, contract_id)


class SharedNow:
    """What a tenant shares now with which organisations (the share index,
    caught up first), for the webhooks follower: an organisation's
    subscription gets only the events of records shared with it."""

    def __init__(self, stores: TenantStores):
        self.stores = stores

    def __call__(self, tenant: Tenant, org_ids: set[UUID], record_ids: set[UUID]) -> set[tuple[UUID, UUID]]:
        database = self.stores.database(tenant.database)
        ProjectionRunner(database, BY_NAME[shared.NAME]).catch_up(tenant, wait=True)
        with database.connection() as conn:
            return shared.shared_pairs(conn, tenant.id, org_ids, record_ids)


@dataclass
class System:
    settings: Settings
    database_url: str
    stores: TenantStores
    registry: TenantRegistry
    ledger: Ledger
    broker: Any
    notifier: Any = None
    webhooks: Any = None  # infra.webhooks.Webhooks

    def follow_webhooks(self, tenant: Tenant) -> list[UUID]:
        """Record the webhook deliveries of the tenant's new events (the worker,
        after each catch-up and in its sweep); the new deliveries' ids."""
        return self.webhooks.follow(tenant, self.stores.database(tenant.database), SharedNow(self.stores))
    # Spreadsheet imports (infra/import_store.py).
    imports: Any = None

    def migrate_tenants(self) -> int:
        """Bring every tenant's tables and insert functions to this release's
        definitions (idempotent). Run by `sroi migrate` and `sroi run`."""
        tenants = self.registry.list_tenants()
        for tenant in tenants:
            self.stores.database(tenant.database).create_tenant_tables(tenant)
        return len(tenants)

    def remind(self, mailer: Any = None, *, today: date | None = None, days: int = reminders.REMIND_DAYS,
               tenants: list[Tenant] | None = None) -> reminders.ReminderRun:
        """One run of the reminders process manager over every active tenant,
        or the ones given (the worker's hourly `remind_duties`)."""
        def users(tenant_id: UUID) -> dict[UUID, str]:
            return agency_users(self.stores.database("default"), tenant_id)

        def employees(tenant_id: UUID, candidate_id: UUID) -> list[str]:
            return employee_addresses(self.stores.database("default"), tenant_id, candidate_id)

        return reminders.remind(self.ledger, self.registry.list_tenants() if tenants is None else tenants,
                                DutiesToRemind(self.stores), users, mailer, today=today, days=days,
                                check_ins=CheckInsToRemind(self.stores), employee_addresses=employees,
                                public_url=self.settings.public_url or "")

    def notify(self, mailer: Any = None, *, today: date | None = None,
               tenants: list[Tenant] | None = None) -> notifications.NotificationRun:
        """One run of the notifications process manager (period statements
        submitted or decided): inbox rows, and digests when a mailer is given
        (the worker's `notify_statements`)."""
        platform = self.stores.database("default")
        return notifications.notify(
            self.ledger, self.registry.list_tenants() if tenants is None else tenants,
            NoticesToTell(self.stores), inbox.PlatformPeople(platform), inbox.PlatformInbox(platform),
            mailer, today=today, base_url=self.settings.public_url or "", texts=translations.translations)

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()
        self.stores.close()
        self.broker.close()


# -- processes for a large import's batches (service/importing.py) -------------
# A child's system: built once per child, from the parent's settings.
_CHILD: System | None = None
# A child's connections: it runs one batch at a time.
CHILD_POOL_SIZE = 2


def _child_start(settings: Settings, database_url: str) -> None:
    """A child's start: its own system (connections, broker, keys) on the
    parent's databases, closed when the child exits."""
    global _CHILD
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database,
                                                                          pool_size=CHILD_POOL_SIZE))
    _CHILD = bootstrap(settings, database_url=database_url, migrate=False)
    # A batch stored here is told to the workers by the importing process,
    # as its result arrives (service/importing.py): no broker connection per
    # child, no message per batch beside the parent's, which it coalesces.
    _CHILD.ledger.on_committed = None
    multiprocessing.util.Finalize(None, _CHILD.close, exitpriority=10)


def _child_ready() -> None:
    """Nothing: submitted once per child when the pool opens, so that every
    child starts (and builds its system) at once; and forked once by `warm`
    to see that the fork server is ready."""


def _child_run(fn: Callable[[Any, Any], Any], task: Any) -> Any:
    assert _CHILD is not None
    # What the child holds so far (the application's modules, its system,
    # what earlier batches left in caches) is set aside from the cycle
    # collector, as the importing process does before each batch (service/
    # importing.py `_set_aside`): otherwise its full collections walk all of
    # it again and again, a fifth of a child's time on a 1,000-row batch
    # (bench/import.py). Freed as usual when the child ends with the import.
    gc.freeze()
    return fn(_CHILD.ledger, task)


class ImportProcesses:
    """service.ports.BatchProcesses: up to `size` child processes, started for
    one import and stopped after it, each with a system of its own. Children
    come from a fork server (multiprocessing's "forkserver": one clean
    process with this module imported, started once per process by `warm`
    or at first use, forks each child), so a child shares nothing with its
    parent (no connection, no thread) and starts in a tenth of a second
    (concurrent.futures' process pool, standard library).

    Not kept between imports: children forked ahead and left waiting (tried
    in session 12: 0.05 s sooner to the first batch) outlive a worker that is
    killed (a pool's idle children wait on their queue for ever), and Python
    3.11's exit hook fails on a pool shut down without waiting."""

    def __init__(self, settings: Settings, database_url: str, size: int):
        self.settings, self.database_url, self.size = settings, database_url, size

    def _context(self) -> Any:
        context = multiprocessing.get_context("forkserver")
        # What every child would otherwise import itself, each at its start,
        # on cores the import is using: the brokers' modules (infra/broker.py
        # imports them when a broker is made; 16 ms), the batches' own code
        # (service.importing: the first batch's task names it; 15 ms), and
        # what the main module imports. A child runs the parent's main module
        # again before anything else (multiprocessing's spawn preparation,
        # as `__mp_main__`); for the worker that is the `sroi` script, whose
        # infra.cli then comes from here (10 ms a child otherwise). A module
        # that is not installed is left out.
        context.set_forkserver_preload(["infra.bootstrap", "infra.cli", "service.importing", "dramatiq_postgres",
                                        "dramatiq.brokers.rabbitmq"])
        return context

    def warm(self) -> None:
        """Start the fork server now, not at the first large import (the
        worker does at its start), and wait until it is ready: it imports the
        application first (half a second), and a child asked of it meanwhile
        waits for that. Waiting is one child forked that does nothing."""
        child = self._context().Process(target=_child_ready, name="fork server ready")
        child.start()
        child.join()

    @contextmanager
    def open(self) -> Iterator[SideBySide]:
        pool = ProcessPoolExecutor(self.size, mp_context=self._context(), initializer=_child_start,
                                   initargs=(self.settings, self.database_url))
        try:
            # The children start now, building their systems while the caller
            # still reads what the file's rows refer to.
            for _ in range(self.size):
                pool.submit(_child_ready)
        except (BrokenProcessPool, OSError, RuntimeError):
            pass  # told at the first run

        def run(fn: Callable[[Any, Any], Any], tasks: Iterable[Any]) -> Iterator[tuple[int, Any]]:
            # A task is taken from `tasks` (the caller decides a batch) when a
            # child can start it soon: one per child and one waiting, and
            # another as each finishes. Taking them all at once kept this
            # process busy deciding while the pool's threads here were to
            # hand the first batches over (they wait for the interpreter
            # lock): the second child's first batch started 0.1 s late.
            pending: dict[Future[Any], int] = {}
            taken = enumerate(tasks)

            def take() -> None:
                try:
                    while len(pending) <= self.size:
                        i, task = next(taken)
                        pending[pool.submit(_child_run, fn, task)] = i
                except StopIteration:
                    pass
                except RuntimeError as e:  # the pool refuses work once broken
                    raise BrokenProcessPool(str(e)) from None

            try:
                take()
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        index, result = pending.pop(future), future.result()
                        take()
                        yield index, result
            except (BrokenProcessPool, OSError) as e:
                # A child died (killed, out of memory) or none could start.
                raise ProcessesLost(f"the import's processes stopped: {type(e).__name__}") from None
            finally:
                for future in pending:
                    future.cancel()
        try:
            yield run
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def bootstrap(settings: Settings, *, database_url: str | None = None, migrate: bool = True,
              clock: Clock | None = None) -> System:
    """The system; `clock` (default: the machine's) is what the ledger reads
    "now" from, so that tests can move time themselves."""
    url = database_url or resolve_database_url(settings.database.url, settings.data_dir)
    databases = {"default": EventStoreDatabase(url, settings.database.pool_size)}
    for key, other_url in settings.database.tenant_databases.items():
        if key != "default":
            databases[key] = EventStoreDatabase(other_url, settings.database.pool_size)
    kek = load_data_key(settings)
    # The one place the document store is chosen (DOCUMENT_STORE): every
    # database's vault keeps its bytes there, a folder per tenant.
    document_store: DocumentStore = (DirectoryDocumentStore(settings.document_directory)
                                     if settings.document_directory is not None else DatabaseDocumentStore())
    for db in databases.values():
        db.person_keys = PersonKeys(db, kek)
        db.documents = DocumentVault(db, db.person_keys, max_bytes=settings.document_max_bytes,
                                     quota_bytes=settings.document_quota_bytes, store=document_store)
    stores = TenantStores(databases, aggregate_cache_size=settings.aggregate_cache_size,
                          max_tenant_apps=settings.tenant_app_cache_size)
    registry = TenantRegistry(databases["default"], stores, token_days=settings.api_token_days)
    imports = ImportStore(databases["default"], kek)
    if migrate:
        for db in databases.values():
            db.migrate()
            db.person_keys.migrate()
            db.documents.migrate()
        registry.migrate()
        audit.migrate(databases["default"])
        inbox.migrate(databases["default"])
        webhooks.migrate(databases["default"])
        imports.migrate()
        for db in databases.values():
            import_store.migrate_rows(db)
        ensure_broker_schema(settings.broker_url, url)
        for db in databases.values():
            migrate_read_models(db, PROJECTIONS)
    else:
        for db in databases.values():
            db.datastore.db_type_names.add("stored_event_uuid")
            db.datastore.register_type_adapters()
    broker = make_broker(settings.broker_url, url)
    notifier = ProjectionNotifier(broker, QUEUE, "project_tenant")
    ledger = Ledger(stores, on_committed=lambda tenant, position: notifier.tenant_changed(tenant.id),
                    accounts=PlatformAccounts(databases["default"]), clock=clock,
                    organisations=PlatformOrganisations(databases["default"]),
                    records=ContractRecords(stores), rule_sets=PlatformRuleSets(databases["default"]),
                    imported_files=import_store.ImportedFiles(stores, imports),
                    # Not with a clock of the caller's (tests move time): the
                    # children read the machine's.
                    batch_processes=(ImportProcesses(settings, url, settings.import_processes)
                                     if settings.import_processes > 1 and clock is None else None))
    hooks = webhooks.Webhooks(
        databases["default"], kek, webhooks.WebhookSettings(
            allow_private=settings.webhook_allow_private, pause_after=settings.webhook_pause_after,
            max_attempts=settings.webhook_max_attempts, retry_seconds=settings.webhook_retry_seconds,
            timeout_seconds=settings.webhook_timeout_seconds, log_days=settings.webhook_log_days),
        head=lambda tenant: webhooks.head_position(stores.database(tenant.database), tenant),
        tenants=registry.list_tenants)
    return System(settings=settings, database_url=url, stores=stores, registry=registry,
                  ledger=ledger, broker=broker, notifier=notifier, webhooks=hooks, imports=imports)

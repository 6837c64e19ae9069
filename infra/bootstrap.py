"""The composition root: builds the system from settings. Entry points and
tests differ only in what they pass in; nothing connects at import time."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infra.broker import ensure_broker_schema, make_broker
from infra.database import resolve_database_url
from infra.eventstore import EventStoreDatabase, TenantStores
from infra.notifier import ProjectionNotifier
from infra.registry import TenantRegistry
from infra.settings import Settings
from service.ledger import Ledger


@dataclass
class System:
    settings: Settings
    database_url: str
    stores: TenantStores
    registry: TenantRegistry
    ledger: Ledger
    broker: Any
    notifier: Any = None

    def migrate_tenants(self) -> int:
        """Bring every tenant's tables and insert functions to this release's
        definitions (idempotent). Run by `sroi migrate` and `sroi run`."""
        tenants = self.registry.list_tenants()
        for tenant in tenants:
            self.stores.database(tenant.database).create_tenant_tables(tenant)
        return len(tenants)

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()
        self.stores.close()
        self.broker.close()


def bootstrap(settings: Settings, *, database_url: str | None = None, migrate: bool = True) -> System:
    url = database_url or resolve_database_url(settings.database.url, settings.data_dir)
    databases = {"default": EventStoreDatabase(url, settings.database.pool_size)}
    for key, other_url in settings.database.tenant_databases.items():
        if key != "default":
            databases[key] = EventStoreDatabase(other_url, settings.database.pool_size)
    from infra.personal_data import PersonKeys, load_data_key

    kek = load_data_key(settings)
    for db in databases.values():
        db.person_keys = PersonKeys(db, kek)
    stores = TenantStores(databases, aggregate_cache_size=settings.aggregate_cache_size,
                          max_tenant_apps=settings.tenant_app_cache_size)
    registry = TenantRegistry(databases["default"], stores, token_days=settings.api_token_days)
    if migrate:
        for db in databases.values():
            db.migrate()
            db.person_keys.migrate()
        registry.migrate()
        from infra import audit
        audit.migrate(databases["default"])
        ensure_broker_schema(settings.broker_url, url)
        from projections.registry import PROJECTIONS
        from projections.writer import migrate as migrate_read_models
        for db in databases.values():
            migrate_read_models(db, PROJECTIONS)
    else:
        for db in databases.values():
            db.datastore.db_type_names.add("stored_event_uuid")
            db.datastore.register_type_adapters()
    broker = make_broker(settings.broker_url, url)
    from projections.registry import QUEUE
    notifier = ProjectionNotifier(broker, QUEUE, "project_tenant")
    ledger = Ledger(stores, on_committed=lambda tenant, position: notifier.tenant_changed(tenant.id))
    return System(settings=settings, database_url=url, stores=stores, registry=registry,
                  ledger=ledger, broker=broker, notifier=notifier)

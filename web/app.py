"""The Litestar application factory. `create_app(system)` is all the wiring:
the routers, the services given to handlers by name (`dependencies`), the
error handlers, and the read pools opened at start, one per database
(web/pools.py: the one thing kept in the app's state, read only in this module)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any, TYPE_CHECKING
from uuid import UUID

from litestar import Litestar, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from infra.broker import broker_ready
from infra import import_store
from projections.registry import QUEUE, failing_projections
from web.api.contract import operation_id
from web.api.document_routes import document_router
from web.api.import_routes import import_router
from web.api.read_routes import read_router
from web.api.matching_routes import matching_router
from web.api.support_routes import support_router
from web.api.impact_routes import impact_router
from web.api.notification_routes import notification_router
from web.api.employment_routes import employment_router
from web.api.outcome_routes import outcome_router
from web.api.statement_routes import statement_router
from web.api.portfolio_routes import portfolio_router
from web.api.rule_set_routes import rule_set_router
from web.api.routes import api_router
from web.api.webhook_routes import webhook_router
from web.drain import DrainUnreadBody
from web.imports import ImportServices
from web.errors import EXCEPTION_HANDLERS
from web.reference import render_plugins
from web.pages import page_stores, pages_routers
from web.pages import sessions as page_sessions
from web.pages.security import security_headers
from web.pools import ReadPools, RoutedPool
from web.timing import ServerTimingMiddleware, TimedConnection

if TYPE_CHECKING:  # the composition root builds the app; web only names its type
    from infra.bootstrap import System


@get("/health", include_in_schema=True, tags=["ops"])
async def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


def create_app(system: System) -> Litestar:
    @get("/ready", tags=["ops"])
    async def ready() -> Response:
        """The database and the broker answer (else 503), and whether read
        models are stuck on an event (200 "degraded": this process still
        serves every request; see README, Production)."""
        checks: dict[str, str] = {}
        try:
            for pool in app.state.read_pools.pools.values():
                await asyncio.wait_for(pool.fetchval("SELECT 1"), timeout=2)
            checks["database"] = "ok"
        except Exception:
            checks["database"] = "unavailable"
        ok = await asyncio.to_thread(broker_ready, system.broker)
        checks["broker"] = "ok" if ok else "unavailable"
        if checks["database"] != "ok" or not ok:
            return Response({"status": "not ready", "checks": checks}, status_code=503)
        try:
            def tenants() -> Iterator[Any]:
                # Read only when some failure is recorded: a healthy /ready,
                # asked every few seconds by the balancer, costs one query per database.
                yield from system.registry.list_tenants()

            failing = await asyncio.wait_for(asyncio.to_thread(
                failing_projections, tenants(), system.stores), timeout=2)
            checks["projections"] = "failing" if failing else "ok"
        except Exception:
            failing, checks["projections"] = {}, "unknown"
        body: dict[str, Any] = {"status": "ready" if checks["projections"] == "ok" else "degraded",
                                "checks": checks}
        if failing:
            # Per projection, how many tenants it is stuck on; no tenant named.
            body["failing_projections"] = failing
        return Response(body, status_code=200)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.read_pools = await ReadPools.open(
            database_urls(system), max_size=system.settings.database.read_pool_size,
            connection_class=TimedConnection)
        await page_sessions.migrate(app.state.read_pools.platform)
        try:
            yield
        finally:
            await app.state.read_pools.close()

    app = Litestar(
        route_handlers=[health, ready, api_router(), read_router(), matching_router(), support_router(), impact_router(),
                        document_router(system.settings), statement_router(), portfolio_router(),
                        notification_router(), employment_router(), outcome_router(), rule_set_router(),
                        webhook_router(), import_router(),
                        *pages_routers(system)],
        dependencies=dependencies(system),
        lifespan=[lifespan],
        middleware=[ServerTimingMiddleware] if system.settings.server_timing else [],
        before_send=[security_headers(production=system.settings.is_production)],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=system.settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="SROI Ledger API", version="1.0.0",
            description="Social return placements, contracts and compliance, per tenant.",
            render_plugins=render_plugins(),
            operation_id_creator=operation_id,
            components=Components(security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer",
                                              description="A per-user API token (sroi user create --token)")}),
        ),
        stores=page_stores(lambda: app.state.read_pools.platform),
        debug=False,
    )
    # Outside everything Litestar does (routing, CSRF, its exception handling),
    # so that every early answer, a 404 included, reaches the client.
    app.asgi_handler = DrainUnreadBody(app.asgi_handler)
    return app


def dependencies(system: System) -> dict[str, Provide]:
    """The services every handler may ask for by name: `ledger`, `registry`,
    `settings`, `webhooks` (the system's), and `pool`, the request's `RoutedPool` over
    the read pools the app opens at start (web/pools.py: the platform's
    tables on the default database, the rest on the database of the tenant
    the request acts in, which the principal or the viewer chooses)."""
    return {
        "ledger": Provide(_constant(system.ledger), use_cache=True, sync_to_thread=False),
        "registry": Provide(_constant(system.registry), use_cache=True, sync_to_thread=False),
        "settings": Provide(_constant(system.settings), use_cache=True, sync_to_thread=False),
        "webhooks": Provide(_constant(system.webhooks), use_cache=True, sync_to_thread=False),
        "pool": Provide(_read_pool, sync_to_thread=False),
        "imports": Provide(_constant(import_services(system)), use_cache=True, sync_to_thread=False),
    }


def import_services(system: System) -> ImportServices:
    """The import store, and the worker's queue for confirmed imports."""
    def enqueue(tenant_id: UUID, import_id: UUID) -> None:
        import_store.request_job(system.broker, QUEUE, tenant_id, import_id)
    return ImportServices(store=system.imports, enqueue=enqueue)


def _constant(value: Any) -> Any:
    def provide() -> Any:
        return value
    return provide


def database_urls(system: System) -> dict[str, str]:
    """Every database by key: `default` (the platform's) and TENANT_DATABASES'."""
    urls = {"default": system.database_url}
    urls.update({k: v for k, v in system.settings.database.tenant_databases.items() if k != "default"})
    return urls


def _read_pool(state: State) -> RoutedPool:
    return state.read_pools.request()

"""The web's read pools: one asyncpg pool per database, chosen per request.

A tenant's read models, documents and events live on its own database (the
registry's database key: `default`, or a key of TENANT_DATABASES); the
platform's tables (the `platform` schema: tenants, users, tokens, sessions,
organisations, rule sets, the notifications inbox) on the default one. The
app opens `ReadPools` at start, one pool per database (connections grow with
databases, never with tenants), and gives each request its own `RoutedPool`
under the dependency name `pool`:

Each read says which database it reads; nothing is chosen from the SQL:

- a tenant read (a read model, a document) is the pool itself: `fetch`,
  `fetchrow`, `fetchval`, `execute`, `executemany` and `acquire()` (a read
  model's snapshot) go to the database of the tenant the request acts in,
  once the principal (API) or the viewer (pages) knows it (`use(tenant)`);
  the default database until then;
- a platform read (users, tokens, sessions, organisations, the registry's
  tenants, rule sets, the inbox) asks `platform_pool(pool)` (projections/
  reader.py), the default database;
- a cross-tenant read (the share index, an organisation's lists) asks every
  database, `each_database(pool)`, and joins the tenants' names from the
  platform in Python (`tenants_listed`): no statement joins a platform
  table with a tenant's read model.

A statement naming the `platform` schema sent to the tenant's pool is a
mistake (on a tenant database of its own, that table is not there): it is
refused, so the one-database test suite finds it too.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import asyncpg

from infra.eventstore import Tenant

PLATFORM_DATABASE = "default"
# A statement on a platform table names it schema-qualified (platform.users, ...).
_PLATFORM_SQL = re.compile(r"\bplatform\.")


class PlatformTableOnTenantPool(RuntimeError):
    """A platform statement sent to a tenant's database: read it from platform_pool(pool)."""


class ReadPools:
    """The process's read pools, by database key (`default` is the platform's)."""

    def __init__(self, pools: Mapping[str, asyncpg.Pool]):
        self.pools = dict(pools)

    @classmethod
    async def open(cls, urls: Mapping[str, str], *, max_size: int, **kwargs: Any) -> "ReadPools":
        pools: dict[str, asyncpg.Pool] = {}
        try:
            for key, url in urls.items():
                pools[key] = await asyncpg.create_pool(url, min_size=1, max_size=max_size, **kwargs)
        except BaseException:
            for pool in pools.values():
                await pool.close()
            raise
        return cls(pools)

    @property
    def platform(self) -> asyncpg.Pool:
        return self.pools[PLATFORM_DATABASE]

    def for_key(self, key: str) -> asyncpg.Pool:
        try:
            return self.pools[key]
        except KeyError:
            raise LookupError(f"tenant database {key!r} is not configured (TENANT_DATABASES)") from None

    def request(self) -> "RoutedPool":
        return RoutedPool(self)

    async def close(self) -> None:
        for pool in self.pools.values():
            await pool.close()


class RoutedPool(asyncpg.Pool):
    """One request's pool: the database of the tenant the request acts in,
    and the others by name (`platform`, `databases`).

    A Pool to the handlers that ask for `pool: NamedDependency[Pool]` (Litestar
    checks a dependency's value against its annotation); it opens no
    connection of its own and answers only what the handlers use: fetch,
    fetchrow, fetchval, execute, executemany, acquire."""

    def __init__(self, pools: ReadPools):  # pylint: disable=super-init-not-called
        self._pools = pools
        self._key = PLATFORM_DATABASE

    def use(self, tenant: Tenant | None) -> None:
        """From now on, the request reads the tenant's database (None: the platform's)."""
        self._key = tenant.database if tenant is not None else PLATFORM_DATABASE

    @property
    def platform(self) -> asyncpg.Pool:
        return self._pools.platform

    @property
    def tenant_pool(self) -> asyncpg.Pool:
        return self._pools.for_key(self._key)

    @property
    def databases(self) -> dict[str, asyncpg.Pool]:
        """Every database's pool by key, the platform's first: for reads across tenants."""
        return {PLATFORM_DATABASE: self._pools.platform,
                **{k: p for k, p in self._pools.pools.items() if k != PLATFORM_DATABASE}}

    def _tenant(self, query: str) -> asyncpg.Pool:
        if _PLATFORM_SQL.search(query):
            raise PlatformTableOnTenantPool("a platform statement on the tenant's pool: use platform_pool(pool)")
        return self.tenant_pool

    async def fetch(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._tenant(query).fetch(query, *args, **kwargs)

    async def fetchrow(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._tenant(query).fetchrow(query, *args, **kwargs)

    async def fetchval(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._tenant(query).fetchval(query, *args, **kwargs)

    async def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        return await self._tenant(query).execute(query, *args, **kwargs)

    async def executemany(self, query: str, args: Any, **kwargs: Any) -> Any:
        return await self._tenant(query).executemany(query, args, **kwargs)

    def acquire(self, **kwargs: Any) -> Any:
        return self.tenant_pool.acquire(**kwargs)

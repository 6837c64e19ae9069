"""Who is looking: the tenant and actor behind a page session, and the guards.

The session holds only the user's id, e-mail and tenant id (an organisation's
user: its organisation's id; it has no tenant, and opens only the pages that
say so with `opt={ORGANISATION_PAGES: True}`: its list of what agencies share,
its portfolio, and the pages of a record an agency shares with it, where it
works as that agency's partner role: `provide_viewer`). The tenant and
user are resolved once per request from the registry (cached a few seconds;
a session itself is read from the database on every request, as API tokens
are), so a suspended tenant or a removed user takes effect within seconds.
Guards attach per route: `signed_in` on every page (made with the app's
`Viewers`: guards get no dependencies), then `may_issue(command)`
on a route that issues a command (and on its form's page): the roles of the
service's own table (COMMAND_ROLES), never restated; a page that only shows
is guarded by `roles(*READERS)`, its feature's readers named once beside it. Objects a role may not see answer 404
from the service layer (`Ledger.get`), exactly as for ids that do not exist.
"""
from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from infra.eventstore import Tenant
from infra.registry import REGISTRY_CACHE_SECONDS, TenantNotFound, TenantRegistry
from service.actor import Actor
from service.errors import PermissionDenied
from service.handlers import COMMAND_ROLES
from web.api.auth import in_owning_tenant, use_database

CACHE_SECONDS = REGISTRY_CACHE_SECONDS
VIEWER_KEY = "sroi.viewer"
# A page's opt: an organisation's user (no tenant) may open it.
ORGANISATION_PAGES = "organisation_users"
# An organisation's user: what agencies share with it, and its cross-agency lists (web/pages/portfolio.py).
ORGANISATION_NAV: dict[str, tuple[str, ...]] = {
    "authority": ("dashboard", "portfolio", "rule-sets"),
    "employer": ("dashboard", "portfolio", "portfolio-placements"),
}

# The menu per role: which list pages a role uses. Each page checks its own
# roles again; the menu only leaves out what would answer 403.
NAV: dict[str, tuple[str, ...]] = {
    "agency": ("dashboard", "contracts", "employers", "candidates", "vacancies", "placements", "support",
               "duties", "reminders", "retention", "audit", "rule-sets", "imports"),
    "auditor": ("dashboard", "contracts", "employers", "candidates", "vacancies", "placements", "retention",
                "audit"),
    "employer": ("dashboard", "contracts", "vacancies", "placements", "support", "retention"),
    "authority": ("dashboard", "contracts", "rule-sets"),
    "employee": ("placements", "profile"),
}


class NotSignedIn(Exception):
    """No valid page session: the answer is the login page."""


@dataclass(frozen=True)
class Viewer:
    tenant: Tenant | None  # None: a platform organisation's user (actor.org_id)
    actor: Actor
    email: str
    nav: tuple[str, ...] = field(default=())

    @property
    def role(self) -> str:
        return self.actor.role

    @property
    def active(self) -> bool:
        """Whether the viewer's tenant (if any) is active: may change things."""
        return self.tenant is None or self.tenant.status == "active"

    @property
    def home_name(self) -> str:
        """The agency's name, or the organisation's."""
        return self.tenant.name if self.tenant is not None else self.actor.organisation


class ViewerCache:
    def __init__(self) -> None:
        self._entries: dict[UUID, tuple[float, Viewer]] = {}

    def get(self, user_id: UUID) -> Viewer | None:
        entry = self._entries.get(user_id)
        if entry is None or entry[0] < time.monotonic():
            self._entries.pop(user_id, None)
            return None
        return entry[1]

    def put(self, viewer: Viewer) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[viewer.actor.user_id] = (time.monotonic() + CACHE_SECONDS, viewer)

    def forget(self, user_id: UUID) -> None:
        self._entries.pop(user_id, None)


def _resolve(registry: TenantRegistry, user_id: UUID, email: str, tenant_id: UUID | None,
             org_id: UUID | None = None) -> Viewer | None:
    user = registry.user_by_email(email)
    if user is None or user.id != user_id or user.tenant_id != tenant_id or user.org_id != org_id:
        return None
    if tenant_id is None:
        actor = Actor(user_id=user.id, role=user.role, organisation=user.organisation, org_id=user.org_id)
        return Viewer(tenant=None, actor=actor, email=user.email, nav=ORGANISATION_NAV.get(user.role, ("dashboard",)))
    try:
        tenant = registry.tenant_by_id(tenant_id)
    except TenantNotFound:
        return None
    actor = Actor(user_id=user.id, role=user.role, organisation=user.organisation,
                  employer_id=user.employer_id, candidate_id=user.candidate_id)
    return Viewer(tenant=tenant, actor=actor, email=user.email, nav=NAV.get(user.role, ()))


class Viewers:
    """Resolves a page session to its viewer through the registry, cached a
    few seconds. One per app, made when the pages are wired and given to the
    `signed_in` guard and, as the dependency `viewers`, to logging in."""

    def __init__(self, registry: TenantRegistry) -> None:
        self.registry = registry
        self.cache = ViewerCache()

    async def resolve(self, connection: ASGIConnection) -> Viewer:
        session = connection.scope.get("session") or {}
        try:
            user_id, email = UUID(session["user_id"]), str(session["email"])
            tenant_id = UUID(session["tenant_id"]) if "tenant_id" in session else None
            org_id = UUID(session["org_id"]) if tenant_id is None else None
        except (KeyError, ValueError, TypeError):
            raise NotSignedIn() from None
        viewer = self.cache.get(user_id)
        if viewer is None:
            viewer = await asyncio.to_thread(_resolve, self.registry, user_id, email, tenant_id, org_id)
            if viewer is None:
                raise NotSignedIn()
            self.cache.put(viewer)
        return viewer

    def forget(self, user_id: UUID) -> None:
        self.cache.forget(user_id)


def signed_in(viewers: Viewers) -> Any:
    """Guard for every page: a valid session, resolved once per request. An
    organisation's user (no tenant) opens only the pages made for it.
    Litestar gives guards no dependencies (litestar issue #1129), so the
    guard is made with the app's `Viewers` when the pages are wired."""
    async def guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
        viewer = await viewers.resolve(connection)
        if viewer.tenant is None and not handler.opt.get(ORGANISATION_PAGES):
            raise PermissionDenied("this page is an agency's: an organisation's user sees what agencies share"
                                   " with it on its own page")
        connection.scope[VIEWER_KEY] = viewer  # type: ignore[literal-required]

    guard.__name__ = "signed_in"
    return guard


def roles(*allowed: str) -> Any:
    """Guard: only these roles may open the page (after `signed_in`)."""
    permitted = frozenset(allowed)

    def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        viewer: Viewer = connection.scope[VIEWER_KEY]  # type: ignore[literal-required]
        if viewer.role not in permitted:
            raise PermissionDenied(f"role {viewer.role!r} may not open this page")

    guard.__name__ = "roles_" + "_".join(sorted(permitted))
    return guard


def may_issue(command_type: type) -> Any:
    """Guard of a route that issues `command_type` (or of its form's page):
    the roles the service's own table gives that command. Ownership is still
    the service's to check."""
    guard = roles(*COMMAND_ROLES[command_type])
    guard.__name__ = "may_issue_" + command_type.__name__
    return guard


async def provide_viewer(request: Request, pool: NamedDependency[Any]) -> Viewer:
    """The viewer a handler works as. An organisation's user on a page that
    names a record (a contract, a placement, a statement, a document) works, for
    this request, as the in-tenant authority or employer of the agency that
    shares the record with its organisation, seeing by its organisation's id
    (service/visibility.py): the API's own lookup (web/api/auth.py). A record
    not shared answers 404, as an unknown id. The header still shows the
    organisation (the session's viewer, kept in the request's scope)."""
    viewer: Viewer = request.scope[VIEWER_KEY]  # type: ignore[literal-required]
    if viewer.tenant is None:
        owning = await in_owning_tenant(pool, viewer.actor, request.path_params)
        if owning is not None:
            tenant, actor = owning
            viewer = dataclasses.replace(viewer, tenant=tenant, actor=actor)
    # The page reads the read models of the tenant it shows, on its database (web/pools.py).
    use_database(pool, viewer.tenant)
    return viewer

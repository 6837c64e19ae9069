"""Logging in and out of the pages (e-mail and password; the API keeps its tokens)."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from litestar import Request, Response, get, post
from litestar.di import NamedDependency

from infra.registry import TenantRegistry
from projections.reader import platform_pool
from web.pages.common import PageServices
from web.pages.forms import Form
from web.pages.render import page
from web.pages.sessions import count_login_attempt, forget_login_attempts, renew_session
from web.pages.viewer import NotSignedIn, Viewers


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, host or '//' tricks) is followed after login."""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc \
            or "\\" in target:
        return "/"
    return target


@get("/login", name="login")
async def login_form(request: Request, services: NamedDependency[PageServices],
                     viewers: NamedDependency[Viewers]) -> Response:
    try:
        await viewers.resolve(request)
        return Response(b"", status_code=303, headers={"Location": "/"})
    except NotSignedIn:
        pass
    return page(services.templates, request, "login.html", {
        "email": "", "next": _safe_next(request.query_params.get("next", "/")), "error": None})


@post("/login")
async def login(request: Request, services: NamedDependency[PageServices], registry: NamedDependency[TenantRegistry],
                viewers: NamedDependency[Viewers]) -> Response:
    form = await Form.read(request)
    email, password = form.raw("email"), form.data.get("password") or ""
    target = _safe_next(form.raw("next") or "/")
    client = request.client.host if request.client else "-"
    context = {"email": email, "next": target, "error": "invalid"}
    if not await count_login_attempt(platform_pool(services.pool), email, client):
        context["error"] = "too_many"
        return page(services.templates, request, "login.html", context, status=429, headers={"Retry-After": "300"})
    found = await asyncio.to_thread(registry.authenticate, email, password)
    if found is None:
        return page(services.templates, request, "login.html", context, status=401)
    tenant, user = found
    await forget_login_attempts(platform_pool(services.pool), email, client)
    viewers.forget(user.id)
    # A user of an agency has its tenant; an organisation's user its organisation (no tenant).
    home = {"tenant_id": str(tenant.id)} if tenant is not None else {"org_id": str(user.org_id)}
    renew_session(request, {"user_id": str(user.id), "email": user.email, **home})
    if user.role == "employee" and target == "/":
        target = "/placements"
    return Response(b"", status_code=303, headers={"Location": target})


@post("/logout")
async def logout(request: Request) -> Response:
    request.clear_session()
    if request.headers.get("hx-request") == "true":
        return Response(b"", status_code=200, headers={"HX-Redirect": "/login"})
    return Response(b"", status_code=303, headers={"Location": "/login"})

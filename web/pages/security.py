"""Security headers for every response, and the pages' CSRF settings.

The Content-Security-Policy allows scripts, styles, images and requests from
this origin only and no inline script or style at all: htmx is loaded from
/static and configured from a meta tag, so nothing inline is needed.
"""
from __future__ import annotations

from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

CSRF_COOKIE = "sroi_csrf"
CSRF_HEADER = "x-csrftoken"


def security_headers(*, production: bool = False) -> Any:
    """A `before_send` hook for the whole app: every response, the pages', the
    API's, the static files' and the ones Litestar answers itself before any
    route runs (an unknown path's 404, a 405, a 500) carries the headers above.
    Everything but the static files is `Cache-Control: no-store`: pages and
    API answers show personal data and must stay out of shared caches and the
    browser's history; the static files are the same for everyone."""
    extra = dict(SECURITY_HEADERS)
    if production:
        extra["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in extra.items():
            headers[name] = value
        if not scope["path"].startswith("/static/"):
            headers["Cache-Control"] = "no-store"

    return before_send


def csrf_config(secret: str, production: bool) -> CSRFConfig:
    """Double-submit token signed with the app's secret: a cookie, and the same
    token in each form (`_csrf_token`) or htmx request (X-CSRFToken header)."""
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER,
                      cookie_secure=production, cookie_httponly=True, cookie_samesite="lax")

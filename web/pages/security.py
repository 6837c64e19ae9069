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

# The API reference (/schema, web/reference.py) runs Redoc, whose styles come
# from script: styled-components inserts empty <style> elements and fills them
# through the CSSOM, and one bundled style sheet (perfect-scrollbar's) is
# inserted as a <style> with fixed text; its search runs in a Web Worker made
# from a blob: URL (which only script already running here can create). The
# reference's policy is the pages' plus exactly those two styles by hash (the
# empty one and that sheet, for the vendored redoc.standalone.js 2.5.4) and
# `worker-src blob:`: still no inline script, no 'unsafe-inline', nothing from
# elsewhere (Redoc's "powered by" logo on cdn.redoc.ly is blocked by img-src;
# Redoc hides it).
REFERENCE_STYLE_HASHES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "" (styled-components)
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",  # perfect-scrollbar.css
)
REFERENCE_CSP = "; ".join([CSP.replace("style-src 'self'", "style-src 'self' " + " ".join(REFERENCE_STYLE_HASHES)),
                           "worker-src blob:"])
REFERENCE_PATH = "/schema"

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
        path = scope["path"]
        if path == REFERENCE_PATH or path.startswith(REFERENCE_PATH + "/"):
            headers["Content-Security-Policy"] = REFERENCE_CSP
        if not path.startswith("/static/"):
            headers["Cache-Control"] = "no-store"

    return before_send


def csrf_config(secret: str, production: bool) -> CSRFConfig:
    """Double-submit token signed with the app's secret: a cookie, and the same
    token in each form (`_csrf_token`) or htmx request (X-CSRFToken header)."""
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER,
                      cookie_secure=production, cookie_httponly=True, cookie_samesite="lax")

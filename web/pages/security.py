"""Security headers for pages and their static files, and the CSRF settings.

The Content-Security-Policy allows scripts, styles, images and requests from
this origin only and no inline script or style at all: htmx is loaded from
/static and configured from a meta tag, so nothing inline is needed.
"""
from __future__ import annotations

from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

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


def security_headers_middleware(app: ASGIApp, *, production: bool = False) -> ASGIApp:
    extra = dict(SECURITY_HEADERS)
    if production:
        extra["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in extra.items():
                    headers[name] = value
                # Pages show personal data: never keep them in shared caches.
                if not scope["path"].startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def csrf_config(secret: str, production: bool) -> CSRFConfig:
    """Double-submit token signed with the app's secret: a cookie, and the same
    token in each form (`_csrf_token`) or htmx request (X-CSRFToken header)."""
    return CSRFConfig(secret=secret, cookie_name=CSRF_COOKIE, header_name=CSRF_HEADER,
                      cookie_secure=production, cookie_httponly=True, cookie_samesite="lax")

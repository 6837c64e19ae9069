"""Rendering: one template per page, fragments as named blocks in it.

The handler decides whether a request gets the whole page or one block:
`wants_fragment(request)` is true for an htmx request that is not a boosted
navigation or a history restore (those need whole pages). The client never
names the block.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from litestar.utils.scope.state import ScopeState

from web.pages.i18n import LANGUAGES, formatters, language_of, load_translations, message_filter
from web.timing import rendering

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

# htmx settings (read by htmx from a meta tag, so no inline script is needed):
# no eval, no inline scripts or indicator styles (CSP), no copies of pages in
# localStorage (they hold personal data; a back button reloads instead), and
# 4xx answers are swapped so that forms show their errors.
HTMX_CONFIG = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    "selfRequestsOnly": True,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[234]..", "swap": True},
        {"code": "...", "swap": False, "error": True},
    ],
}


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "svg"], default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    translations = load_translations(language)
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(formatters(language))
    env.filters["message"] = message_filter(translations, language)
    env.globals["htmx_config"] = HTMX_CONFIG
    return env


class Templates:
    def __init__(self) -> None:
        self.environments = {language: _environment(language) for language in LANGUAGES}

    def render(self, language: str, name: str, context: dict[str, Any], block: str | None = None) -> str:
        env = self.environments[language]
        template = env.get_template(name)
        # The macros, bound to this request's context (CSRF token, language),
        # are given to every page and to blocks rendered on their own alike.
        context = {**context, "m": env.get_template("macros.html").make_module(context)}
        if block is None:
            return template.render(context)
        ctx = template.new_context(context)
        return "".join(template.blocks[block](ctx))


def wants_fragment(request: Request) -> bool:
    headers = request.headers
    return (headers.get("hx-request") == "true" and headers.get("hx-boosted") != "true"
            and headers.get("hx-history-restore-request") != "true")


def csrf_token(request: Request) -> str:
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def page(templates: Templates, request: Request, template: str, context: dict[str, Any] | None = None, *,
         block: str | None = None, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """Render a page (or one of its blocks) in the request's language, with
    the app's templates (a handler's `services.templates`)."""
    language = language_of(request)
    viewer = request.scope.get("sroi.viewer")  # type: ignore[call-overload]
    full = {
        "lang": language,
        "csrf_token": csrf_token(request),
        "viewer": viewer,
        "nav": viewer.nav if viewer is not None else [],
        "path": request.url.path,
        "query": request.url.query or "",
        "stale": request.scope.get("sroi.stale", False),  # type: ignore[call-overload]
        **(context or {}),
    }
    with rendering():
        html = templates.render(language, template, full, block=block)
    return Response(html, status_code=status, media_type="text/html", headers=headers)

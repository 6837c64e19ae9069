"""The API reference at /schema: Redoc, served from this product's own static
files (web/static/redoc.standalone.js, vendored from the npm package
redoc@2.5.4, MIT, see redoc.LICENSE), under the pages' Content-Security-Policy.

Litestar's own Redoc page loads the script from cdn.redoc.ly and fonts from
Google, and starts Redoc from an inline script: on a machine without internet
it stays empty, every visit tells third parties who reads it, and a CSP
without inline script blocks it. This page has no inline script or style:
web/static/reference.js starts Redoc on the JSON schema named in the page.
Redoc's own "powered by" logo (an image on cdn.redoc.ly) is blocked by the
CSP's img-src and hidden by Redoc when it fails to load.
"""
from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin

REDOC_VERSION = "2.5.4"


class ReferencePage(OpenAPIRenderPlugin):
    """/schema (and /schema/redoc): the Redoc page, all of it from /static."""

    def __init__(self, *, path: tuple[str, ...] = ("/", "/redoc")) -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/reference.css">
<script src="/static/redoc.standalone.js" defer></script>
<script src="/static/reference.js" defer></script>
</head>
<body>
<div id="reference" data-spec-url="{spec_url}"></div>
<noscript><p>The API reference needs JavaScript; the schema itself is at
<a href="{spec_url}">{spec_url}</a>.</p></noscript>
</body>
</html>
""".encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    """The reference page and the schema as JSON and YAML; no other viewer
    (Litestar's Swagger, RapiDoc and Elements pages load from CDNs too)."""
    return [ReferencePage(), JsonRenderPlugin(), YamlRenderPlugin()]

"""How the pages are put together: a feature's section never imports another
feature's page module (the composite pages are built in
web/pages/assembly.py), no form's state travels in the request, and every
route that issues a command is guarded by the service's own role table, and
no page module reads the app's state (services come as dependencies)."""
from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

from service import commands as c
from service.errors import PermissionDenied
from tests.web.world import ROLES
from web.pages import PAGE_HANDLERS
from web.pages.viewer import COMMAND_ROLES, VIEWER_KEY, may_issue

PAGES = Path(__file__).resolve().parents[2] / "web" / "pages"
# The modules every feature may use: the shared helpers, not other features.
SHARED = {"answer", "charts", "common", "forms", "i18n", "render", "viewer", "security", "sessions"}
# The composite pages, built from the features' sections.
COMPOSITE = {"assembly", "dashboard"}
FEATURES = {p.stem for p in PAGES.glob("*.py")} - SHARED - COMPOSITE - {"__init__"}
# Routes that issue no ledger command (the registry's tokens, an export job, marking notifications read),
# or that only the agency posts although the command is also an employer's
# (proposing from the suggestions is the agency's step).
NOT_A_COMMAND = {"/audit/export", "/tokens", "/tokens/{token_id:str}/revoke", "/notifications/read",
                 "/vacancies/{vacancy_id:str}/suggestions",
                 # Platform data, not a tenant's ledger: an authority organisation publishes (infra/rule_sets.py).
                 "/rule-sets", "/rule-sets/preview",
                 # Platform data too: a subscription is the agency's or an organisation's
                 # (web/pages/webhooks.py lets in those roles; infra/webhooks.py decides the owner).
                 "/webhooks", "/webhooks/{subscription_id:str}/delete",
                 "/webhooks/{subscription_id:str}/deliveries/{delivery_id:str}/replay",
                 "/webhooks/{subscription_id:str}/pause", "/webhooks/{subscription_id:str}/replay",
                 "/webhooks/{subscription_id:str}/resume", "/webhooks/{subscription_id:str}/rotate-secret"}
# An import's rows are commands, each checked against the role table by the
# ledger (Ledger.execute_batch), and only the agency may import
# (service/importing.py); the page routes' guard is roles("agency").
IMPORT_ROUTES = {"/imports", "/imports/{import_id:str}/confirm", "/imports/{import_id:str}/forget-file",
                 "/imports/{import_id:str}/mapping"}


def _imported_page_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "web.pages":
                found |= {alias.name for alias in node.names}
            elif node.module.startswith("web.pages."):
                found.add(node.module.removeprefix("web.pages.").split(".")[0])
    return found


def test_a_feature_module_imports_no_other_feature_nor_a_composite_page() -> None:
    crossings = {feature: sorted(_imported_page_modules(PAGES / f"{feature}.py") & (FEATURES | COMPOSITE)
                                 - {feature}) for feature in sorted(FEATURES)}
    assert {k: v for k, v in crossings.items() if v} == {}


def test_no_form_state_travels_in_the_request() -> None:
    """Errors and values reach the template as arguments (web/pages/answer.py)."""
    written = [f"{p.name}: {ast.unparse(node)}" for p in PAGES.glob("*.py")
               for node in ast.walk(ast.parse(p.read_text()))
               if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
               and "scope" in ast.unparse(node.value) and "form" in ast.unparse(node.slice)]
    assert written == []


def _reads_of_app_state(path: Path) -> list[str]:
    """Where a module reaches the app's state: `<anything>.app.state` or a
    `State` given to a function (litestar's way to inject it)."""
    tree = ast.parse(path.read_text())
    found = [f"{path.name}:{node.lineno}: {ast.unparse(node)}" for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and node.attr == "state"
             and isinstance(node.value, ast.Attribute) and node.value.attr == "app"]
    found += [f"{path.name}:{node.lineno}: {node.arg}: State" for node in ast.walk(tree)
              if isinstance(node, ast.arg) and node.annotation is not None
              and ast.unparse(node.annotation).split(".")[-1] == "State"]
    return found


def test_no_page_module_reads_the_app_state() -> None:
    """Handlers get their services as dependencies (`services`, `viewer`,
    `viewers`, wired in web/pages/__init__.py); the guard and the error pages
    are made with what they use. None of it is fetched from the app's state."""
    assert [hit for p in sorted(PAGES.glob("*.py")) for hit in _reads_of_app_state(p)] == []


def test_the_app_state_scan_finds_a_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("def pool(request):\n    return request.app.state.read_pool\n\n"
                      "def cache(state: State):\n    return state.page_viewers\n")
    assert _reads_of_app_state(sample) == ["sample.py:2: request.app.state", "sample.py:4: state: State"]


def test_every_route_that_issues_a_command_is_guarded_by_the_role_table() -> None:
    unguarded = sorted(path for h in PAGE_HANDLERS if "POST" in h.http_methods for path in h.paths
                       if path not in NOT_A_COMMAND | IMPORT_ROUTES
                       and not any(g.__name__.startswith("may_issue_") for g in h.guards or []))
    assert unguarded == []
    agency_only = {path for h in PAGE_HANDLERS for path in h.paths if path in IMPORT_ROUTES
                   and "POST" in h.http_methods and [g.__name__ for g in h.guards or []] == ["roles_agency"]}
    assert agency_only == IMPORT_ROUTES


def test_the_guard_of_a_command_lets_in_exactly_the_roles_of_the_table() -> None:
    let_in = set()
    for role in ROLES:
        connection = SimpleNamespace(scope={VIEWER_KEY: SimpleNamespace(role=role)})
        try:
            may_issue(c.GiveFeedback)(connection, None)  # type: ignore[arg-type]
        except PermissionDenied:
            continue
        let_in.add(role)
    assert let_in == set(COMMAND_ROLES[c.GiveFeedback]) == {"agency", "employer", "employee"}

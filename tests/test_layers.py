"""The layers hold: import-linter checks the contracts in pyproject.toml
(domain imports nothing of ours; service and projections never import web and
are independent of each other; entry points, composition root, web, use
cases and read models, adapters and domain in that order; no cycles between
the modules of a package)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_layer_contract_is_kept() -> None:
    # In its own process: the linter builds the import graph from the source,
    # with nothing of this test session's imports in the way.
    run = subprocess.run(
        [sys.executable, "-c",
         "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True, no_logo=True))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    kept = re.search(r"Contracts: (\d+) kept, (\d+) broken", report)
    assert kept is not None and int(kept.group(1)) >= 5 and kept.group(2) == "0", report

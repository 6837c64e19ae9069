"""Projections project; commands and entry points live elsewhere.

Each check imports modules in a fresh interpreter and looks at what came in
with them: the read side never pulls in the composition root or the service
layer (no cycle with infra/bootstrap.py; no commands issued from a
projection), and the reminders process manager in service/ never pulls in a
projection (it is fed through a port the composition root wires).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
READ_SIDE = sorted(f"projections.{p.stem}" for p in (ROOT / "projections").glob("*.py") if p.stem != "__init__")


def loaded_with(module: str) -> set[str]:
    """Every module of ours a fresh interpreter has loaded after `import module`."""
    code = (f"import sys, {module}\n"
            "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in"
            " ('domain', 'service', 'projections', 'infra', 'web')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return set(done.stdout.split())


@pytest.mark.parametrize("module", READ_SIDE)
def test_a_projection_module_brings_in_no_composition_root_no_service_and_no_web(module):
    loaded = loaded_with(module)

    assert "infra.bootstrap" not in loaded
    assert {m for m in loaded if m.split(".")[0] in ("service", "web")} == set()


def test_the_reminders_process_manager_reads_no_projection():
    loaded = loaded_with("service.reminders")

    assert {m for m in loaded if m.split(".")[0] in ("projections", "web")} == set()
    assert "infra.registry" not in loaded  # the agency's users come through a port too

"""The rule sets shipped with the code: seed data for the platform's rule set
table (infra/rule_sets.py), one JSON file per version.

``<name>.json`` is version 1 of a rule set, ``<name>.v<N>.json`` version N.
Nothing in the code chooses a rule set by name: a contract pins the rule set
(name, version, sha256 of its canonical JSON, and the body itself) in its
ContractRegistered event, and figures come from that pinned body
(docs/rule-sets.md).

The one lookup by name is the upcast of contract events from before pinning
(they name only the rule set): those contracts were valued by version 1 of
their rule set, these files, which are frozen data: a version-1 file is never
edited in a way that changes its JSON (the upcast would change an old
contract's figures). A change is a new version.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


def seed_files() -> list[tuple[str, str]]:
    """Every shipped file as (file name, text), by file name: the seeds."""
    found = resources.files(__name__)
    return sorted((e.name, e.read_text("utf-8")) for e in found.iterdir() if e.name.endswith(".json"))


@lru_cache(maxsize=None)
def _frozen_text(name: str) -> str | None:
    entry = resources.files(__name__).joinpath(f"{name}.json")
    return entry.read_text("utf-8") if entry.is_file() else None


def frozen_v1_body(name: str) -> dict[str, Any] | None:
    """Version 1 of the rule set of that name as shipped (a fresh dict), or
    None if none ships: for the upcast of contract events from before pinning."""
    if "/" in name or "\\" in name or name.startswith("."):
        return None
    text = _frozen_text(name)
    return None if text is None else json.loads(text)

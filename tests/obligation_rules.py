"""A fixture that reads each rule set name as its version 2 seed
(domain/rulesets/<name>.v2.json: obligation, pso_discounts, shortfall), until
contracts pin rule set versions (issue 13, helper A)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import pytest

import domain.valuation as valuation


@pytest.fixture
def v2_rule_sets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def load(name: str) -> valuation.RuleSet:
        text = resources.files("domain.rulesets").joinpath(f"{name}.v2.json").read_text("utf-8")
        return valuation.parse_rule_set(json.loads(text))

    monkeypatch.setattr(valuation, "_load_rule_set", load)
    yield

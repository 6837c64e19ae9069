"""A fixture under which the contracts a test registers through `Books` pin
version 2 of their rule set (domain/rulesets/<name>.v2.json: obligation,
pso_discounts, shortfall) unless the test names a version."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from tests.projections.conftest import Books


@pytest.fixture
def v2_rule_sets(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    register = Books.contract

    def contract(self: Books, employer: UUID, **overrides: Any) -> UUID:
        return register(self, employer, **{"rule_set_version": 2, **overrides})

    monkeypatch.setattr(Books, "contract", contract)
    yield

"""The base of this project's aggregates."""
from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class LedgerAggregate(Aggregate):
    """An Aggregate that copies itself cheaply.

    The repository hands out a deep copy of a cached aggregate for every
    command, so a command that fails never corrupts the cache. A generic
    `copy.deepcopy` walks every Decimal, date and UUID and cost about 0.1 ms a
    command here; this copy knows the shape of our state instead: values are
    immutable (str, int, Decimal, date, UUID, None), or lists and dicts of
    those, or lists of such dicts. Event methods replace or append; they never
    change a nested dict in place, so copying containers two levels deep is a
    full copy. tests/domain/test_copy.py checks that against `deepcopy`.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> "LedgerAggregate":
        clone = object.__new__(type(self))
        state = clone.__dict__
        for name, value in self.__dict__.items():
            if isinstance(value, list):
                value = [dict(v) if isinstance(v, dict) else v for v in value]
            elif isinstance(value, dict):
                value = {k: (dict(v) if isinstance(v, dict) else v) for k, v in value.items()}
            state[name] = value
        return clone

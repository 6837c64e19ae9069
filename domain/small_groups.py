"""Small groups never identify a person (issue 16).

Any figure drawn from the answers or records of fewer than ``MIN_GROUP``
people is withheld: shown as "withheld (fewer than 5)" on pages, ``null`` with
``withheld: true`` in the API and empty in CSV. One rule for every outcome
figure (check-ins, team surveys, accessibility, progression, impact reports),
so no page can be cross-checked against another to narrow a group down.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

MIN_GROUP = 5

T = TypeVar("T")


@dataclass(frozen=True)
class Shown(Generic[T]):
    """A figure and how many people it is drawn from; ``value`` is None when
    withheld."""

    value: T | None
    people: int

    @property
    def withheld(self) -> bool:
        return self.value is None and self.people < MIN_GROUP


def shown(value: T, people: int) -> Shown[T]:
    """``value`` when at least MIN_GROUP distinct people stand behind it, else
    withheld. ``people`` counts persons, not answers: two answers from one
    employee are one person."""
    if people < 0:
        raise ValueError("people must not be negative")
    return Shown(value if people >= MIN_GROUP else None, people)

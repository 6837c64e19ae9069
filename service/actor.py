from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """Who asks: a user of one tenant, with one role."""

    user_id: UUID
    role: str
    organisation: str
    employer_id: UUID | None = None
    candidate_id: UUID | None = None

    @classmethod
    def system(cls, organisation: str = "platform") -> "Actor":
        """The platform itself (demo seeding, migrations), acting as the agency."""
        return cls(user_id=UUID(int=0), role="agency", organisation=organisation)

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    """Who asks, with one role: a user of one tenant, or a user of a platform
    organisation (`org_id`: a contracting authority or an employer) acting in
    the tenant that owns the record it asks about. For an employer
    organisation's user, `employer_id` is the employer record of that tenant
    through which the record is shared (so the read models' employer filters
    apply); what it may see is decided by `org_id` (service/visibility.py)."""

    user_id: UUID
    role: str
    organisation: str
    employer_id: UUID | None = None
    candidate_id: UUID | None = None
    org_id: UUID | None = None

    @classmethod
    def system(cls, organisation: str = "platform") -> "Actor":
        """The platform itself (demo seeding, migrations), acting as the agency."""
        return cls(user_id=UUID(int=0), role="agency", organisation=organisation)

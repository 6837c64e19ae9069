from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import event

from domain.base import LedgerAggregate

from domain.errors import InvalidValue
from domain.values import PERSONAL_DATA, optional_text, require_text


def _require_email(value: Any, field: str = "email") -> str:
    email = require_text(value, field, max_len=254)
    local, at, domain = email.partition("@")
    # Deliberately loose: one @, something before it and a dot in the domain.
    # Real proof of an address is a mail that arrives, not a regex.
    if (
        not at
        or not local
        or "@" in domain
        or "." not in domain.strip(".")
        or any(c.isspace() for c in email)
    ):
        raise InvalidValue("{name} is not a valid e-mail address", field, name=field)
    return email


class Employer(LedgerAggregate):
    """An organisation that hires (inlener) or employs people from target groups."""

    # Contact persons are people; the organisation's own name is not personal.
    DATA_CLASSIFICATION: ClassVar[dict[str, str]] = {
        "contact_persons.name": PERSONAL_DATA,
        "contact_persons.email": PERSONAL_DATA,
        "contact_persons.phone": PERSONAL_DATA,
    }

    @classmethod
    def register(cls, name: str) -> Employer:
        return cls(name=require_text(name, "name"))

    @event("EmployerRegistered")
    def __init__(self, name: str) -> None:
        self.name = name
        self.contact_persons: list[dict[str, Any]] = []

    def add_contact_person(
        self,
        name: str,
        email: str,
        phone: str | None = None,
        role: str | None = None,
    ) -> None:
        self._contact_person_added(
            name=require_text(name, "name"),
            email=_require_email(email),
            phone=optional_text(phone, "phone", max_len=50),
            role=optional_text(role, "role", max_len=100),
        )

    @event("ContactPersonAdded")
    def _contact_person_added(
        self, name: str, email: str, phone: str | None, role: str | None
    ) -> None:
        self.contact_persons.append(
            {"name": name, "email": email, "phone": phone, "role": role}
        )

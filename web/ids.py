"""Ids in paths: one reading for the API and the pages. An id that is not a
UUID is a record that does not exist (404), as an unknown one is."""
from __future__ import annotations

from uuid import UUID

from service.errors import NotFound


def parse_id(kind: str, raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(kind, raw) from None

"""Every command's handler and the roles that may issue it, composed into ONE
table from the feature modules (each declares its own with `@handles`).

A new feature: a module here with its own `handles = Handlers()`, and one
line below. COMMAND_ROLES (which roles may issue which command; ownership is
checked by visibility) is derived from the table, for the pages' and the API's
guards.
"""
from __future__ import annotations

from service.handlers import (
    candidates,
    contracts,
    contributions,
    documents,
    duties,
    employers,
    employments,
    erasure,
    matching,
    placements,
    progression,
    responsible,
    statements,
    support,
    vacancies,
    voice,
)
from service.unit import Entry, compose

HANDLERS: dict[type, Entry] = compose(
    employers.handles,
    contracts.handles,
    candidates.handles,
    vacancies.handles,
    matching.handles,
    placements.handles,
    employments.handles,
    responsible.handles,
    contributions.handles,
    documents.handles,
    statements.handles,
    duties.handles,
    support.handles,
    progression.handles,
    voice.handles,
    erasure.handles,
)

COMMAND_ROLES: dict[type, frozenset[str]] = {command: entry.roles for command, entry in HANDLERS.items()}

"""What the import routes and pages need beyond the ledger: the import store
(infra/import_store.py) and how to hand a confirmed import to the worker."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from infra.import_store import ImportStore


@dataclass(frozen=True)
class ImportServices:
    store: ImportStore
    # Queue a confirmed import for the worker (None: store it in the request).
    enqueue: Callable[[UUID, UUID], None] | None

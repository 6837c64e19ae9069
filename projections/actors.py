"""The dramatiq actors of the read side, declared on a given broker.

Declared by `declare_actors(broker, system)` rather than at import time, so
that importing this module connects to nothing and tests can pass their own
broker and system.
"""
from __future__ import annotations

from typing import Any

import dramatiq

from infra.bootstrap import System


def declare_actors(broker: dramatiq.Broker, system: System) -> dict[str, Any]:
    """Declare every read-side actor on `broker`; returns them by name."""
    actors: dict[str, Any] = {}
    return actors

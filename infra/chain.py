"""The tenant hash chain, in plain Python (stdlib only).

Each stored event's hash covers the previous event's hash and the event as
stored: its notification position, aggregate id and version, topic and the
exact stored bytes. The first event links to a genesis hash derived from the
tenant's events table name, so one tenant's chain cannot be passed off as
another's. PostgreSQL computes the same hash inside the insert function
(infra/eventstore.py); this module recomputes it for verification, in the
database and offline from an export, without any project settings.
"""
from __future__ import annotations

import hashlib
from uuid import UUID

CHAIN_VERSION = "sroi-ledger/chain/v1/"


def genesis(events_table: str) -> bytes:
    return hashlib.sha256((CHAIN_VERSION + events_table).encode()).digest()


def event_hash(previous: bytes, position: int, originator_id: UUID, version: int,
               topic: str, state: bytes) -> bytes:
    topic_b = topic.encode()
    return hashlib.sha256(
        previous
        + position.to_bytes(8, "big", signed=True)
        + originator_id.bytes
        + version.to_bytes(8, "big", signed=True)
        + len(topic_b).to_bytes(4, "big") + topic_b
        + len(state).to_bytes(4, "big") + state
    ).digest()


class ChainBreak(Exception):
    """The first position at which the chain does not hold."""

    def __init__(self, position: int, problem: str):
        super().__init__(f"chain broken at position {position}: {problem}")
        self.position, self.problem = position, problem


class ChainVerifier:
    """Feed events in position order; raises ChainBreak at the first bad one."""

    def __init__(self, events_table: str):
        self.previous = genesis(events_table)
        self.last_position = 0
        self.count = 0

    def add(self, position: int, originator_id: UUID, version: int, topic: str, state: bytes,
            stored_hash: bytes | None) -> bytes:
        if position <= self.last_position:
            raise ChainBreak(position, f"out of order after position {self.last_position}")
        expected = event_hash(self.previous, position, originator_id, version, topic, state)
        if stored_hash is None:
            raise ChainBreak(position, "the event has no chain hash")
        if stored_hash != expected:
            raise ChainBreak(position, "the event or one before it was altered, removed or reordered "
                                       "(its hash does not follow from the chain)")
        self.previous, self.last_position = expected, position
        self.count += 1
        return expected

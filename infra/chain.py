"""The tenant hash chain, in plain Python (stdlib only).

Two versions of the rule, switched once per tenant at a recorded position:

- v1 (events before the switch, older databases): each event's hash covers
  the previous hash and the event as stored: its notification position,
  aggregate id and version, topic and the exact stored bytes (which hold the
  metadata: user, role, organisation, correlation id). The first event links
  to a genesis hash derived from the tenant's events table name, so one
  tenant's chain cannot be passed off as another's.
- v2 (from `from_position` on): the same plus the event's `recorded_at`
  (as PostgreSQL sends it in binary: a signed 8-byte count of microseconds
  since 2000-01-01T00:00:00Z, exact on every server version), so that every
  field an auditor reads is covered. The first v2 event links to a *switch link* that covers the
  last v1 hash, `from_position` itself and a digest of every v1 event's
  (position, recorded_at): the old events' times are covered from the switch
  on without rewriting their hashes, and moving or removing the recorded
  switch position breaks the chain.

PostgreSQL computes the same hashes inside the insert function
(infra/eventstore.py); this module recomputes them for verification, in the
database and offline from an export, without any project settings.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from uuid import UUID

CHAIN_VERSION = "sroi-ledger/chain/v1/"
CHAIN_V2 = "sroi-ledger/chain/v2/"
TIME_ORIGIN = datetime(2000, 1, 1, tzinfo=timezone.utc)  # PostgreSQL's timestamp origin


def genesis(events_table: str) -> bytes:
    return hashlib.sha256((CHAIN_VERSION + events_table).encode()).digest()


def micros(moment: datetime) -> int:
    """A timestamp as whole microseconds since 2000-01-01T00:00:00Z (exact),
    what PostgreSQL's timestamptz_send() gives."""
    since = moment - TIME_ORIGIN
    return (since.days * 86400 + since.seconds) * 1_000_000 + since.microseconds


def event_tail(originator_id: UUID, version: int, topic: bytes, state: bytes) -> bytes:
    """What an event's hash covers after the previous hash and its position
    (the same under both rules), known before its position is: a batch's
    are made before it takes the table's lock."""
    return (originator_id.bytes
            + version.to_bytes(8, "big", signed=True)
            + len(topic).to_bytes(4, "big") + topic
            + len(state).to_bytes(4, "big") + state)


def event_hash(previous: bytes, position: int, originator_id: UUID, version: int,
               topic: str, state: bytes) -> bytes:
    """The v1 rule."""
    return tail_hash(previous, position_bytes(position), event_tail(originator_id, version, topic.encode(), state))


def event_hash_v2(previous: bytes, position: int, originator_id: UUID, version: int,
                  topic: str, state: bytes, recorded_at: datetime) -> bytes:
    """The v2 rule: v1's fields, then recorded_at as a signed 8-byte count of microseconds."""
    return tail_hash(previous, position_bytes(position), event_tail(originator_id, version, topic.encode(), state),
                     recorded_bytes(recorded_at))


def position_bytes(position: int) -> bytes:
    """A position as both rules hash it (and PostgreSQL's int8 sends it)."""
    return position.to_bytes(8, "big", signed=True)


def recorded_bytes(recorded_at: datetime) -> bytes:
    """recorded_at as the v2 rule hashes it."""
    return micros(recorded_at).to_bytes(8, "big", signed=True)


def tail_hash(previous: bytes, position: bytes, tail: bytes, recorded: bytes = b"") -> bytes:
    """An event's hash from its parts as bytes: `position` its
    `position_bytes`, `tail` its `event_tail`, `recorded` its
    `recorded_bytes` under the v2 rule, empty under v1. Both rules are
    this (the bulk insert calls it with a batch's parts made ahead)."""
    return hashlib.sha256(previous + position + tail + recorded).digest()


class RecordedDigest:
    """sha256 over (position, recorded_at) of every v1 event, in position order."""

    def __init__(self) -> None:
        self._sha = hashlib.sha256()

    def add(self, position: int, recorded_at: datetime) -> None:
        self._sha.update(position_bytes(position) + recorded_bytes(recorded_at))

    def digest(self) -> bytes:
        return self._sha.digest()


def switch_link(events_table: str, from_position: int, last_v1_hash: bytes, recorded_digest: bytes) -> bytes:
    """What the first v2 event links to (for a new tenant: from position 1,
    after the v1 genesis and the digest of no events)."""
    return hashlib.sha256(
        (CHAIN_V2 + events_table).encode()
        + from_position.to_bytes(8, "big", signed=True)
        + last_v1_hash
        + recorded_digest
    ).digest()


class ChainBreak(Exception):
    """The first position at which the chain does not hold."""

    def __init__(self, position: int, problem: str):
        super().__init__(f"chain broken at position {position}: {problem}")
        self.position, self.problem = position, problem


class ChainVerifier:
    """Feed events in position order; raises ChainBreak at the first bad one.

    `v2_from`: the tenant's recorded switch position (None: every event is v1,
    as in databases and exports from before v2)."""

    def __init__(self, events_table: str, v2_from: int | None = None):
        self.events_table = events_table
        self.v2_from = v2_from
        self.previous = genesis(events_table)
        self.last_position = 0
        self.count = 0
        self._recorded = RecordedDigest()
        self._switched = False

    def resume(self, position: int, hash_: bytes) -> None:
        """Continue after a known good event (a signed head at or after the v2 switch, or v1 only)."""
        self.previous, self.last_position = hash_, position
        self._switched = self.v2_from is not None and position >= self.v2_from

    def add(self, position: int, originator_id: UUID, version: int, topic: str, state: bytes,
            stored_hash: bytes | None, recorded_at: datetime | None = None) -> bytes:
        if position <= self.last_position:
            raise ChainBreak(position, f"out of order after position {self.last_position}")
        if stored_hash is None:
            raise ChainBreak(position, "the event has no chain hash")
        v2 = self.v2_from is not None and position >= self.v2_from
        if self.v2_from is not None and recorded_at is None:
            raise ChainBreak(position, "the event has no recorded_at")
        if v2:
            if not self._switched:
                self.previous = switch_link(self.events_table, self.v2_from, self.previous,
                                            self._recorded.digest())
                self._switched = True
            expected = event_hash_v2(self.previous, position, originator_id, version, topic, state, recorded_at)
        else:
            expected = event_hash(self.previous, position, originator_id, version, topic, state)
            if self.v2_from is not None:
                self._recorded.add(position, recorded_at)
        if stored_hash != expected:
            before_switch = (" (or a recorded_at before the v2 switch at this position)"
                             if v2 and self.count and self.last_position < self.v2_from else "")
            raise ChainBreak(position, "the event or one before it was altered, removed or reordered "
                                       f"(its hash does not follow from the chain){before_switch}")
        self.previous, self.last_position = expected, position
        self.count += 1
        return expected

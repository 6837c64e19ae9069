"""Webhooks: an agency (tenant) or a platform organisation subscribes a URL to
event types; the worker delivers each stored event once per subscription,
signed, retried with backoff, every attempt logged (docs/webhooks.md).

Tables, on the platform database:

- `platform.webhook_subscriptions`: the owner (exactly one of `tenant_id`,
  `org_id`), the URL, the event types, the signing secret sealed under a key
  derived from DATA_KEY (AES-GCM; shown once, when created or rotated), the
  previous secret while a rotation's overlap lasts, `status` (`active`,
  `paused`) and the count of consecutive failed attempts.
- `platform.webhook_cursors`: per (subscription, tenant) the position in the
  tenant's event log up to which deliveries were recorded. A subscription
  starts at the head of each tenant's log when it is made (a tenant created
  later: at 0, all its events come after), so it never gets the past.
- `platform.webhook_deliveries`: one row per (subscription, tenant,
  position), unique: the body (ids only) is written once, with the cursor,
  in one transaction, so an event is recorded once per subscription however
  often, or by how many workers at once, the log is followed, and nothing is
  skipped after a restart.
- `platform.webhook_attempts`: every attempt: when, how long, the status
  code, the first RESPONSE_KEEP characters of the answer, or the error's type.

Retries are our own schedule, not dramatiq's Retries middleware: the next
attempt's time is kept on the delivery row (it survives a restart, shows in
the log, and a replay resets it); the `deliver_webhook` actor sends the
next message with that delay, and the worker's sweep re-sends any delivery
that is due (a lost message, a worker killed mid-send after its lease).
A delivery is claimed before it is sent (`status = 'sending'` with a lease),
so two messages for it send it once.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from psycopg import sql

from infra.eventstore import SCHEMA as EVENTS_SCHEMA
from infra.eventstore import EventStoreDatabase, Tenant, make_transcoder
from infra.logsafe import error_type

log = logging.getLogger("sroi.webhooks")

SIGNATURE_HEADER = "Sroi-Signature"
SECRET_PREFIX = "whsec_"
USER_AGENT = "SROI-Ledger-Webhooks/1"
# How long a receiver should accept a signature's timestamp (documented; the
# receiver checks it). Deliveries are signed when sent, a replay afresh.
TOLERANCE_SECONDS = 300
# After a rotation the old secret also signs (a second v1) for this long.
ROTATION_OVERLAP = timedelta(hours=24)
RESPONSE_KEEP = 1000  # characters of a receiver's answer kept in the log
URL_MAX = 2000
MAX_SUBSCRIPTIONS = 20  # per owner
LEASE_SECONDS = 60  # a claimed delivery not recorded by then is due again
# A delivery whose message was sent (by the follower or the sweep) is not
# sent again by the sweep for this long: its message may be waiting in the
# queue behind others. A message lost with a worker is sent again after it.
ENQUEUED_LEASE_SECONDS = 300
READ_BATCH = 500
STATUSES = ("active", "paused")
DELIVERY_STATUSES = ("pending", "sending", "retrying", "succeeded", "failed")

# -- the event types -------------------------------------------------------------------


def _event_types() -> dict[str, str]:
    """Every domain event's name -> its aggregate's name (a record type)."""
    import importlib
    import inspect
    import pkgutil

    import domain
    from eventsourcing.domain import Aggregate

    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(domain.__path__):
        module = importlib.import_module(f"domain.{info.name}")
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, Aggregate) and cls.__module__ == module.__name__:
                for name, value in vars(cls).items():
                    if (inspect.isclass(value) and issubclass(value, Aggregate.Event)
                            and name not in ("Event", "Created")):
                        found[name] = cls.__name__
    return found


EVENT_TYPES: dict[str, str] = _event_types()
# What an organisation may subscribe to: events on the records agencies share
# with it (contracts, employer records, vacancies, placements, contributions,
# statements), without those whose type alone says something about a person's
# health or support (sickness, duties, who looks after a placement).
ORG_RECORD_TYPES = frozenset({"Employer", "SocialReturnContract", "Vacancy", "Placement", "Contribution",
                              "Statement"})
ORG_EXCLUDED = frozenset({"SicknessReported", "Recovered", "PlacementDutiesOpened", "DutyCompleted",
                          "PlacementResponsibleAssigned", "DocumentAttached", "DocumentRemoved"})
ORG_EVENT_TYPES = frozenset(name for name, record in EVENT_TYPES.items()
                            if record in ORG_RECORD_TYPES and name not in ORG_EXCLUDED)
# Ids a payload may carry beside the record's own (agency subscriptions only).
LINK_KEYS = ("employer_id", "contract_id", "vacancy_id", "placement_id", "candidate_id", "employment_id",
             "statement_id", "contribution_id")


class WebhookError(ValueError):
    """Input that cannot be accepted: `field` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class NotFoundError(LookupError):
    """No such subscription or delivery for this owner."""


class ConflictError(RuntimeError):
    """The subscription changed meanwhile (version), or is in the wrong state."""


# -- owners ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owner:
    """Whose subscriptions: an agency (tenant) or a platform organisation."""

    tenant_id: UUID | None = None
    org_id: UUID | None = None

    def where(self, alias: str = "s") -> tuple[str, tuple]:
        if self.org_id is not None:
            return f"{alias}.org_id = %s", (self.org_id,)
        return f"{alias}.tenant_id = %s", (self.tenant_id,)

    @property
    def event_types(self) -> frozenset[str]:
        return ORG_EVENT_TYPES if self.org_id is not None else frozenset(EVENT_TYPES)


# -- validation -----------------------------------------------------------------------------


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def check_url(url: Any, *, allow_private: bool, resolve: bool = True, field: str = "url") -> str:
    """The URL if deliveries may go there: https (http only with
    `allow_private`), a host, no user:password; with `resolve`, every address
    the host resolves to public (not loopback, private, link-local, ...),
    unless `allow_private` (tests, a development machine)."""
    if not isinstance(url, str) or not url.strip():
        raise WebhookError(field, "give the URL deliveries are posted to (https://...)")
    url = url.strip()
    if len(url) > URL_MAX:
        raise WebhookError(field, f"must be at most {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError(field, "is not a URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError(field, "must be an https:// URL with a host")
    if parts.scheme == "http" and not allow_private:
        raise WebhookError(field, "must use https")
    if parts.username or parts.password:
        raise WebhookError(field, "must not carry a user name or password")
    if parts.fragment:
        raise WebhookError(field, "must not have a #fragment")
    if resolve and not allow_private:
        host = parts.hostname
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80),
                                       type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            raise WebhookError(field, f"the host {host} does not resolve") from None
        if any(_blocked(info[4][0]) for info in infos):
            raise WebhookError(field, "must reach a public address (not loopback, private or link-local)")
    return url


def check_event_types(value: Any, owner: Owner, field: str = "event_types") -> list[str]:
    if not isinstance(value, list) or not value:
        raise WebhookError(field, "give at least one event type, or [\"*\"] for all")
    if len(value) > len(EVENT_TYPES) + 1:
        raise WebhookError(field, "too many event types")
    allowed = owner.event_types
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise WebhookError(field, "each event type must be a string")
        if item != "*" and item not in allowed:
            what = "an event type shared with organisations" if owner.org_id else "an event type"
            raise WebhookError(field, f"{item[:60]!r} is not {what} (GET /api/v1/webhooks/event-types lists them)")
        if item not in out:
            out.append(item)
    if "*" in out:
        return ["*"]
    return sorted(out)


# -- signing --------------------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """hex HMAC-SHA256 of `<timestamp>.<body>` under the secret (its full text, prefix included)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets_: Iterable[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={sign(s, timestamp, body)}" for s in secrets_)])


def verify(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS,
           now: float | None = None) -> bool:
    """What a receiver does (docs/webhooks.md has the same in a few lines)."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = sign(secret, t, body)
    return any(hmac.compare_digest(expected, v) for k, v in parts if k == "v1")


class SecretBox:
    """Seals signing secrets under a key derived from DATA_KEY (HKDF, its own
    `info`), with the subscription's id as associated data: a sealed secret
    copied to another row does not open."""

    def __init__(self, data_key: bytes):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"sroi-ledger webhook signing secrets").derive(data_key)
        self._aead = AESGCM(key)

    def seal(self, subscription_id: UUID, secret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret.encode(), subscription_id.bytes)

    def open(self, subscription_id: UUID, sealed: bytes) -> str:
        sealed = bytes(sealed)
        return self._aead.decrypt(sealed[:12], sealed[12:], subscription_id.bytes).decode()


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# -- tables ------------------------------------------------------------------------------------

DDL = """
CREATE TABLE IF NOT EXISTS platform.webhook_subscriptions (
    id uuid PRIMARY KEY,
    tenant_id uuid,
    org_id uuid,
    url text NOT NULL,
    event_types text[] NOT NULL,
    description text NOT NULL DEFAULT '',
    secret_sealed bytea NOT NULL,
    previous_secret_sealed bytea,
    previous_secret_until timestamptz,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused')),
    paused_at timestamptz,
    paused_reason text,
    consecutive_failures int NOT NULL DEFAULT 0,
    version int NOT NULL DEFAULT 1,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT webhook_one_owner CHECK ((tenant_id IS NULL) <> (org_id IS NULL))
);
CREATE INDEX IF NOT EXISTS webhook_subscriptions_tenant_idx ON platform.webhook_subscriptions (tenant_id)
    WHERE tenant_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_subscriptions_org_idx ON platform.webhook_subscriptions (org_id)
    WHERE org_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS platform.webhook_cursors (
    subscription_id uuid NOT NULL REFERENCES platform.webhook_subscriptions (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    position bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subscription_id)
);
CREATE TABLE IF NOT EXISTS platform.webhook_deliveries (
    id uuid PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES platform.webhook_subscriptions (id) ON DELETE CASCADE,
    tenant_id uuid NOT NULL,
    position bigint NOT NULL,
    event_id uuid NOT NULL,
    event_type text NOT NULL,
    body bytea NOT NULL,
    status text NOT NULL DEFAULT 'pending',
    attempts int NOT NULL DEFAULT 0,
    tries int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_status_code int,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    CONSTRAINT webhook_delivery_once UNIQUE (subscription_id, tenant_id, position)
);
ALTER TABLE platform.webhook_deliveries ADD COLUMN IF NOT EXISTS enqueued_until timestamptz;
CREATE INDEX IF NOT EXISTS webhook_deliveries_due_idx ON platform.webhook_deliveries (next_attempt_at)
    WHERE status IN ('pending', 'retrying', 'sending');
CREATE INDEX IF NOT EXISTS webhook_deliveries_log_idx ON platform.webhook_deliveries
    (subscription_id, created_at DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_finished_idx ON platform.webhook_deliveries (created_at)
    WHERE status IN ('succeeded', 'failed');
CREATE TABLE IF NOT EXISTS platform.webhook_attempts (
    id bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES platform.webhook_deliveries (id) ON DELETE CASCADE,
    attempt int NOT NULL,
    replay boolean NOT NULL DEFAULT false,
    started_at timestamptz NOT NULL,
    duration_ms int NOT NULL,
    status_code int,
    response_body text,
    error text
);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery_idx ON platform.webhook_attempts (delivery_id, id);
"""


def migrate(platform_db: EventStoreDatabase) -> None:
    with platform_db.connection() as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7204)")
        conn.execute(DDL)


@dataclass(frozen=True)
class WebhookSettings:
    allow_private: bool = False
    pause_after: int = 15
    max_attempts: int = 8
    retry_seconds: float = 30.0
    retry_max_seconds: float = 6 * 3600.0
    timeout_seconds: float = 10.0
    log_days: int = 30

    def retry_delay(self, tries: int) -> float:
        """Seconds before the next try after `tries` failed ones: the base,
        times 4 per failure (30 s, 2 min, 8 min, 32 min, ~2 h, 6 h ...)."""
        return min(self.retry_seconds * 4 ** (max(tries, 1) - 1), self.retry_max_seconds)


SUB_COLUMNS = ("s.id, s.tenant_id, s.org_id, s.url, s.event_types, s.description, s.status, s.paused_at,"
               " s.paused_reason, s.consecutive_failures, s.version, s.created_at, s.updated_at,"
               " s.previous_secret_until")


def subscription_view(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(r["id"]), "url": r["url"], "event_types": list(r["event_types"]),
            "description": r["description"], "status": r["status"],
            "paused_at": r["paused_at"].isoformat() if r["paused_at"] else None,
            "paused_reason": r["paused_reason"], "consecutive_failures": r["consecutive_failures"],
            "version": r["version"], "created_at": r["created_at"].isoformat(),
            "updated_at": r["updated_at"].isoformat(),
            "previous_secret_until": r["previous_secret_until"].isoformat() if r["previous_secret_until"] else None}


def delivery_view(r: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(r["id"]), "subscription_id": str(r["subscription_id"]), "event_id": str(r["event_id"]),
            "event_type": r["event_type"], "position": r["position"], "status": r["status"],
            "attempts": r["attempts"], "last_status_code": r["last_status_code"],
            "next_attempt_at": (r["next_attempt_at"].isoformat()
                                if r["status"] in ("pending", "retrying") else None),
            "created_at": r["created_at"].isoformat(),
            "delivered_at": r["delivered_at"].isoformat() if r["delivered_at"] else None}


def attempt_view(r: dict[str, Any]) -> dict[str, Any]:
    return {"attempt": r["attempt"], "replay": r["replay"], "started_at": r["started_at"].isoformat(),
            "duration_ms": r["duration_ms"], "status_code": r["status_code"],
            "response_body": r["response_body"], "error": r["error"]}


class HostBreaker:
    """A receiver's host that could not be reached (no connection, or no
    answer within WEBHOOK_TIMEOUT_SECONDS) is not tried again, by any
    subscription, until its back-off has passed: the delivery schedule's
    (WEBHOOK_RETRY_SECONDS, x4 per further failure, at most 6 h). A dead
    host then costs one timeout per window, not one per delivery (a
    platform many employers use, down for an hour, would otherwise hold the
    worker's threads with thousands of timeouts). Deliveries meanwhile wait:
    not a try, not a failure of their subscription. Any answer (even a 500)
    closes it. Per process, in memory: a worker that starts tries once."""

    def __init__(self, delay: Callable[[int], float]):
        self.delay = delay  # seconds of back-off after n failures in a row
        self._hosts: dict[str, tuple[float, int]] = {}  # host -> (closed again at, failures)

    def any_waiting(self) -> bool:
        """Whether some host waits now (else a delivery needs no look at its host first)."""
        now = time.monotonic()
        return any(until > now for until, _ in self._hosts.values())

    def wait(self, host: str) -> float:
        """Seconds until this host may be tried again (0: now)."""
        until, _ = self._hosts.get(host, (0.0, 0))
        return max(0.0, until - time.monotonic())

    def unreachable(self, host: str) -> None:
        _, failures = self._hosts.get(host, (0.0, 0))
        failures += 1
        self._hosts[host] = (time.monotonic() + self.delay(failures), failures)

    def reached(self, host: str) -> None:
        self._hosts.pop(host, None)


@dataclass
class Attempted:
    """What one call of `attempt` did (None fields: nothing was sent)."""

    sent: bool = False
    succeeded: bool = False
    retry_in: float | None = None  # seconds, when another try is due
    paused: bool = False


class Webhooks:
    """Subscriptions, the follower of the tenants' logs, and the sender."""

    def __init__(self, platform_db: EventStoreDatabase, data_key: bytes, settings: WebhookSettings,
                 head: Callable[[Tenant], int], tenants: Callable[[], list[Tenant]]):
        self.db = platform_db
        self.box = SecretBox(data_key)
        self.settings = settings
        self._head = head  # a tenant's latest position
        self._tenants = tenants  # every tenant
        self._transcoder = make_transcoder()
        self.hosts = HostBreaker(lambda failures: self.settings.retry_delay(failures))

    # -- subscriptions ---------------------------------------------------------------------
    def create(self, owner: Owner, user_id: UUID, url: Any, event_types: Any,
               description: Any = "") -> tuple[dict[str, Any], str]:
        """A new subscription and its secret (returned this once)."""
        url = check_url(url, allow_private=self.settings.allow_private)
        types = check_event_types(event_types, owner)
        description = _description(description)
        sub_id, secret = uuid.uuid4(), new_secret()
        # Each tenant's log is followed from where it stands now: the past is not sent.
        tenants = [t for t in self._tenants() if owner.org_id is not None or t.id == owner.tenant_id]
        heads = {t.id: self._head(t) for t in tenants}
        with self.db.connection() as conn, conn.transaction():
            where, args = owner.where("s")
            count = conn.execute(f"SELECT count(*) AS n FROM platform.webhook_subscriptions s WHERE {where}",
                                 args).fetchone()["n"]
            if count >= MAX_SUBSCRIPTIONS:
                raise WebhookError("url", f"at most {MAX_SUBSCRIPTIONS} subscriptions: delete one first")
            conn.execute("INSERT INTO platform.webhook_subscriptions (id, tenant_id, org_id, url, event_types,"
                         " description, secret_sealed, created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (sub_id, owner.tenant_id, owner.org_id, url, types, description,
                          self.box.seal(sub_id, secret), user_id))
            for tenant_id, position in heads.items():
                conn.execute("INSERT INTO platform.webhook_cursors (subscription_id, tenant_id, position)"
                             " VALUES (%s, %s, %s)", (sub_id, tenant_id, position))
        return self.get(owner, sub_id), secret

    def list(self, owner: Owner) -> list[dict[str, Any]]:
        where, args = owner.where("s")
        with self.db.connection() as conn:
            rows = conn.execute(f"SELECT {SUB_COLUMNS} FROM platform.webhook_subscriptions s WHERE {where}"
                                " ORDER BY s.created_at, s.id", args).fetchall()
        return [subscription_view(r) for r in rows]

    def get(self, owner: Owner, sub_id: UUID) -> dict[str, Any]:
        where, args = owner.where("s")
        with self.db.connection() as conn:
            row = conn.execute(f"SELECT {SUB_COLUMNS} FROM platform.webhook_subscriptions s"
                               f" WHERE s.id = %s AND {where}", (sub_id, *args)).fetchone()
        if row is None:
            raise NotFoundError("subscription")
        return subscription_view(row)

    def _locked(self, conn: Any, owner: Owner, sub_id: UUID, version: int | None) -> dict[str, Any]:
        where, args = owner.where("s")
        row = conn.execute(f"SELECT {SUB_COLUMNS} FROM platform.webhook_subscriptions s"
                           f" WHERE s.id = %s AND {where} FOR UPDATE", (sub_id, *args)).fetchone()
        if row is None:
            raise NotFoundError("subscription")
        if version is not None and row["version"] != version:
            raise ConflictError(f"the subscription changed meanwhile (now version {row['version']})")
        return dict(row)

    def update(self, owner: Owner, sub_id: UUID, *, url: Any = None, event_types: Any = None,
               description: Any = None, version: int | None = None) -> dict[str, Any]:
        new_url = check_url(url, allow_private=self.settings.allow_private) if url is not None else None
        types = check_event_types(event_types, owner) if event_types is not None else None
        text = _description(description) if description is not None else None
        with self.db.connection() as conn, conn.transaction():
            row = self._locked(conn, owner, sub_id, version)
            conn.execute("UPDATE platform.webhook_subscriptions SET url = %s, event_types = %s, description = %s,"
                         " version = version + 1, updated_at = now() WHERE id = %s",
                         (new_url or row["url"], types or row["event_types"],
                          row["description"] if text is None else text, sub_id))
        return self.get(owner, sub_id)

    def set_status(self, owner: Owner, sub_id: UUID, status: str, version: int | None = None) -> dict[str, Any]:
        """Pause, or resume (held deliveries go out, failures counted afresh)."""
        with self.db.connection() as conn, conn.transaction():
            self._locked(conn, owner, sub_id, version)
            if status == "paused":
                conn.execute("UPDATE platform.webhook_subscriptions SET status = 'paused', paused_at = now(),"
                             " paused_reason = 'by its owner', version = version + 1, updated_at = now()"
                             " WHERE id = %s AND status = 'active'", (sub_id,))
            else:
                conn.execute("UPDATE platform.webhook_subscriptions SET status = 'active', paused_at = NULL,"
                             " paused_reason = NULL, consecutive_failures = 0, version = version + 1,"
                             " updated_at = now() WHERE id = %s AND status = 'paused'", (sub_id,))
                conn.execute("UPDATE platform.webhook_deliveries SET next_attempt_at = now(), enqueued_until = NULL"
                             " WHERE subscription_id = %s AND status IN ('pending', 'retrying')", (sub_id,))
        return self.get(owner, sub_id)

    def rotate(self, owner: Owner, sub_id: UUID, version: int | None = None) -> tuple[dict[str, Any], str]:
        """A new secret (returned this once); the old one signs too for ROTATION_OVERLAP."""
        secret = new_secret()
        with self.db.connection() as conn, conn.transaction():
            self._locked(conn, owner, sub_id, version)
            conn.execute("UPDATE platform.webhook_subscriptions SET previous_secret_sealed = secret_sealed,"
                         " previous_secret_until = now() + %s, secret_sealed = %s, version = version + 1,"
                         " updated_at = now() WHERE id = %s", (ROTATION_OVERLAP, self.box.seal(sub_id, secret), sub_id))
        return self.get(owner, sub_id), secret

    def delete(self, owner: Owner, sub_id: UUID) -> None:
        with self.db.connection() as conn, conn.transaction():
            self._locked(conn, owner, sub_id, None)
            conn.execute("DELETE FROM platform.webhook_subscriptions WHERE id = %s", (sub_id,))

    # -- the log ------------------------------------------------------------------------------
    def deliveries(self, owner: Owner, sub_id: UUID, *, status: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        self.get(owner, sub_id)
        with self.db.connection() as conn:
            rows = conn.execute("SELECT * FROM platform.webhook_deliveries WHERE subscription_id = %s"
                                " AND (%s::text IS NULL OR status = %s) ORDER BY created_at DESC, position DESC"
                                " LIMIT %s", (sub_id, status, status, limit)).fetchall()
        return [delivery_view(r) for r in rows]

    def delivery(self, owner: Owner, sub_id: UUID, delivery_id: UUID) -> dict[str, Any]:
        self.get(owner, sub_id)
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM platform.webhook_deliveries WHERE id = %s AND subscription_id = %s",
                               (delivery_id, sub_id)).fetchone()
            if row is None:
                raise NotFoundError("delivery")
            attempts = conn.execute("SELECT * FROM platform.webhook_attempts WHERE delivery_id = %s ORDER BY id",
                                    (delivery_id,)).fetchall()
        view = delivery_view(row)
        view["payload"] = json.loads(bytes(row["body"]))
        view["attempt_log"] = [attempt_view(a) for a in attempts]
        return view

    def replay(self, owner: Owner, sub_id: UUID, *, delivery_id: UUID | None = None,
               since: datetime | None = None) -> list[UUID]:
        """Send again, signed afresh: one delivery (whatever its status), or
        every failed one recorded since `since`. A paused subscription holds
        them until it is resumed."""
        with self.db.connection() as conn, conn.transaction():
            self._locked(conn, owner, sub_id, None)
            if delivery_id is not None:
                rows = conn.execute("UPDATE platform.webhook_deliveries SET status = 'pending', tries = 0,"
                                    " next_attempt_at = now(), lease_until = NULL, enqueued_until = NULL"
                                    " WHERE id = %s AND subscription_id = %s AND status <> 'sending' RETURNING id",
                                    (delivery_id, sub_id)).fetchall()
                if not rows:
                    exists = conn.execute("SELECT 1 FROM platform.webhook_deliveries WHERE id = %s"
                                          " AND subscription_id = %s", (delivery_id, sub_id)).fetchone()
                    if exists is None:
                        raise NotFoundError("delivery")
                    raise ConflictError("the delivery is being sent now")
            else:
                rows = conn.execute("UPDATE platform.webhook_deliveries SET status = 'pending', tries = 0,"
                                    " next_attempt_at = now(), lease_until = NULL, enqueued_until = NULL"
                                    " WHERE subscription_id = %s"
                                    " AND status = 'failed' AND created_at >= %s RETURNING id",
                                    (sub_id, since)).fetchall()
        return [r["id"] for r in rows]

    def prune(self, days: float | None = None, batch: int = 5000) -> int:
        """Delete finished deliveries (succeeded, or failed after their last
        try) older than `days` (WEBHOOK_LOG_DAYS), with their attempts, in
        batches so no transaction holds many rows; the worker runs it hourly.
        One still to be sent (pending, retrying, a paused subscription's) is
        kept, however old. How many were deleted."""
        days = self.settings.log_days if days is None else days
        deleted = 0
        while True:
            with self.db.connection() as conn:
                cur = conn.execute(
                    "DELETE FROM platform.webhook_deliveries WHERE id IN (SELECT id FROM platform.webhook_deliveries"
                    " WHERE status IN ('succeeded', 'failed') AND created_at < now() - %s * interval '1 day'"
                    " LIMIT %s)", (days, batch))
            deleted += cur.rowcount
            if cur.rowcount < batch:
                return deleted

    # -- following a tenant's log ----------------------------------------------------------
    def followed_tenants(self) -> list[UUID]:
        """The tenants some subscription follows (an organisation's: every tenant)."""
        with self.db.connection() as conn:
            rows = conn.execute("SELECT DISTINCT tenant_id FROM platform.webhook_cursors").fetchall()
            orgs = conn.execute("SELECT EXISTS (SELECT 1 FROM platform.webhook_subscriptions"
                                " WHERE org_id IS NOT NULL) AS any").fetchone()["any"]
        ids = [r["tenant_id"] for r in rows]
        if orgs:
            ids = sorted({*ids, *(t.id for t in self._tenants())}, key=str)
        return ids

    def follow(self, tenant: Tenant, tenant_db: EventStoreDatabase,
               shared: Callable[[Tenant, set[UUID], set[UUID]], set[tuple[UUID, UUID]]]) -> list[UUID]:
        """Record the deliveries of the tenant's events after each
        subscription's cursor, and move the cursors, in one transaction of
        the platform database. `shared(tenant, org_ids, record_ids)`: which
        (org, record) pairs the tenant shares now. Returns the new deliveries."""
        new: list[UUID] = []
        select = sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state FROM {}.{}"
                         " WHERE notification_id > %s ORDER BY notification_id LIMIT %s").format(
            sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))
        while True:
            with self.db.connection() as conn, conn.transaction():
                # One follower of a tenant at a time; the others wait (short transactions).
                conn.execute("SELECT pg_advisory_xact_lock(7205, hashtext(%s))", (str(tenant.id),))
                # Organisation subscriptions made before this tenant existed start at 0.
                conn.execute("INSERT INTO platform.webhook_cursors (subscription_id, tenant_id, position)"
                             " SELECT s.id, %s, 0 FROM platform.webhook_subscriptions s WHERE s.org_id IS NOT NULL"
                             " ON CONFLICT DO NOTHING", (tenant.id,))
                subs = conn.execute(
                    "SELECT s.id, s.org_id, s.event_types, c.position FROM platform.webhook_cursors c"
                    " JOIN platform.webhook_subscriptions s ON s.id = c.subscription_id WHERE c.tenant_id = %s"
                    " AND (s.tenant_id = %s OR s.org_id IS NOT NULL)", (tenant.id, tenant.id)).fetchall()
                if not subs:
                    return new
                start = min(s["position"] for s in subs)
                with tenant_db.connection() as tconn:
                    rows = tconn.execute(select, (start, READ_BATCH)).fetchall()
                if not rows:
                    return new
                events = []
                for r in rows:
                    name = r["topic"].rsplit(".", 1)[-1]
                    events.append((r, name))
                org_ids = {s["org_id"] for s in subs if s["org_id"] is not None}
                pairs: set[tuple[UUID, UUID]] = set()
                if org_ids:
                    records = {r["originator_id"] for r, name in events if name in ORG_EVENT_TYPES}
                    pairs = shared(tenant, org_ids, records) if records else set()
                last = rows[-1]["notification_id"]
                for s in subs:
                    types = set(s["event_types"])
                    for r, name in events:
                        position = r["notification_id"]
                        if position <= s["position"] or name not in EVENT_TYPES:
                            continue
                        if "*" not in types and name not in types:
                            continue
                        org = s["org_id"]
                        if org is not None and (name not in ORG_EVENT_TYPES
                                                or (org, r["originator_id"]) not in pairs):
                            continue
                        body = self._body(r, name, links=org is None)
                        got = conn.execute(
                            "INSERT INTO platform.webhook_deliveries (id, subscription_id, tenant_id, position,"
                            " event_id, event_type, body, enqueued_until) VALUES (%s, %s, %s, %s, %s, %s, %s,"
                            " now() + %s * interval '1 second') ON CONFLICT DO NOTHING RETURNING id",
                            (uuid.uuid4(), s["id"], tenant.id, position, event_id(r), name, body,
                             ENQUEUED_LEASE_SECONDS)).fetchone()
                        if got is not None:
                            new.append(got["id"])
                    conn.execute("UPDATE platform.webhook_cursors SET position = %s, updated_at = now()"
                                 " WHERE subscription_id = %s AND tenant_id = %s AND position < %s",
                                 (last, s["id"], tenant.id, last))
            if len(rows) < READ_BATCH:
                return new

    def _body(self, row: dict[str, Any], name: str, *, links: bool) -> bytes:
        """The payload: ids, the type, the position, when. Never a name, a
        support need or any free text: only UUIDs of the listed link keys are
        read from the event (personal fields are sealed apart and never opened)."""
        data = self._transcoder.decode(bytes(row["state"]))
        occurred = data.get("timestamp")
        payload: dict[str, Any] = {
            "id": str(event_id(row)), "type": name, "position": row["notification_id"],
            "occurred_at": occurred.astimezone(timezone.utc).isoformat() if isinstance(occurred, datetime) else None,
            "record": {"type": EVENT_TYPES.get(name, ""), "id": str(row["originator_id"]),
                       "version": row["originator_version"]},
        }
        if links:
            payload["links"] = {k: str(data[k]) for k in LINK_KEYS if isinstance(data.get(k), UUID)}
        return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()

    # -- sending -------------------------------------------------------------------------------
    def due(self, limit: int = 500) -> list[UUID]:
        """Deliveries whose next try is due (or whose sender's lease ran out),
        of active subscriptions, and that no message is on its way for: each
        returned is marked as sent for ENQUEUED_LEASE_SECONDS (the caller
        sends its message), so a sweep every few seconds never piles up
        messages for deliveries still waiting in the queue behind others."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "UPDATE platform.webhook_deliveries SET enqueued_until = now() + %s * interval '1 second'"
                " WHERE id IN (SELECT d.id FROM platform.webhook_deliveries d JOIN platform.webhook_subscriptions s"
                " ON s.id = d.subscription_id WHERE s.status = 'active' AND ((d.status IN ('pending', 'retrying')"
                " AND d.next_attempt_at <= now()) OR (d.status = 'sending' AND d.lease_until < now()))"
                " AND (d.enqueued_until IS NULL OR d.enqueued_until < now())"
                " ORDER BY d.next_attempt_at LIMIT %s FOR UPDATE OF d SKIP LOCKED) RETURNING id",
                (ENQUEUED_LEASE_SECONDS, limit)).fetchall()
        return [r["id"] for r in rows]

    def _host_wait(self, delivery_id: UUID) -> float:
        """Seconds the delivery's host still waits (HostBreaker); if any, the
        delivery's next try is put after it (not a try)."""
        with self.db.connection() as conn:
            found = conn.execute("SELECT s.url FROM platform.webhook_deliveries d JOIN platform.webhook_subscriptions s"
                                 " ON s.id = d.subscription_id WHERE d.id = %s", (delivery_id,)).fetchone()
            wait = self.hosts.wait(_host(found["url"])) if found else 0.0
            if wait > 0:
                conn.execute("UPDATE platform.webhook_deliveries SET next_attempt_at = greatest(next_attempt_at,"
                             " now() + %s * interval '1 second'), enqueued_until = NULL WHERE id = %s"
                             " AND status IN ('pending', 'retrying')", (wait, delivery_id))
        return wait

    def attempt(self, delivery_id: UUID, client: httpx.Client | None = None) -> Attempted:
        """Claim the delivery if it is due, send it signed, record the attempt.
        If its host could not be reached lately (HostBreaker), the delivery
        waits for the host's back-off instead, untried."""
        if self.hosts.any_waiting() and (wait := self._host_wait(delivery_id)) > 0:
            return Attempted(retry_in=wait)
        with self.db.connection() as conn, conn.transaction():
            row = conn.execute(
                "UPDATE platform.webhook_deliveries d SET status = 'sending', attempts = d.attempts + 1,"
                " tries = d.tries + 1, enqueued_until = NULL, lease_until = now() + %s * interval '1 second'"
                " FROM platform.webhook_subscriptions s WHERE d.id = %s AND s.id = d.subscription_id"
                " AND s.status = 'active' AND ((d.status IN ('pending', 'retrying') AND d.next_attempt_at <= now())"
                " OR (d.status = 'sending' AND d.lease_until < now()))"
                " RETURNING d.id, d.subscription_id, d.attempts, d.tries, d.body, d.event_id, d.event_type,"
                " s.url, s.secret_sealed, s.previous_secret_sealed, s.previous_secret_until > now() AS overlap,"
                " (d.attempts > d.tries) AS replay",
                (LEASE_SECONDS + self.settings.timeout_seconds, delivery_id)).fetchone()
        if row is None:
            return Attempted()
        sub_id = row["subscription_id"]
        keys = [self.box.open(sub_id, row["secret_sealed"])]
        if row["overlap"] and row["previous_secret_sealed"] is not None:
            keys.append(self.box.open(sub_id, row["previous_secret_sealed"]))
        body = bytes(row["body"])
        started = datetime.now(timezone.utc)
        t0 = time.monotonic()
        status_code, answer, error = None, None, None
        try:
            check_url(row["url"], allow_private=self.settings.allow_private)  # again: DNS may have changed
            headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                       SIGNATURE_HEADER: signature_header(keys, int(time.time()), body),
                       "Sroi-Event-Id": str(row["event_id"]), "Sroi-Event-Type": row["event_type"],
                       "Sroi-Delivery-Id": str(row["id"])}
            own = client is None
            http = client or httpx.Client(timeout=self.settings.timeout_seconds, follow_redirects=False,
                                          trust_env=False)
            try:
                response = http.post(row["url"], content=body, headers=headers)
                status_code = response.status_code
                answer = response.text[:RESPONSE_KEEP]
                self.hosts.reached(_host(row["url"]))
            finally:
                if own:
                    http.close()
        except WebhookError as e:
            error = f"refused: {e.message}"
        except httpx.HTTPError as e:
            error = error_type(e)
            if isinstance(e, (httpx.TimeoutException, httpx.NetworkError)):
                self.hosts.unreachable(_host(row["url"]))
        duration = int((time.monotonic() - t0) * 1000)
        ok = status_code is not None and 200 <= status_code < 300
        out = Attempted(sent=True, succeeded=ok)
        with self.db.connection() as conn, conn.transaction():
            conn.execute("INSERT INTO platform.webhook_attempts (delivery_id, attempt, replay, started_at,"
                         " duration_ms, status_code, response_body, error) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (row["id"], row["attempts"], row["replay"], started, duration, status_code, answer, error))
            if ok:
                conn.execute("UPDATE platform.webhook_deliveries SET status = 'succeeded', delivered_at = now(),"
                             " last_status_code = %s, lease_until = NULL WHERE id = %s", (status_code, row["id"]))
                conn.execute("UPDATE platform.webhook_subscriptions SET consecutive_failures = 0 WHERE id = %s",
                             (sub_id,))
                return out
            final = row["tries"] >= self.settings.max_attempts
            delay = self.settings.retry_delay(row["tries"])
            conn.execute("UPDATE platform.webhook_deliveries SET status = %s, last_status_code = %s,"
                         " lease_until = NULL, next_attempt_at = now() + %s * interval '1 second' WHERE id = %s",
                         ("failed" if final else "retrying", status_code, delay, row["id"]))
            sub = conn.execute("UPDATE platform.webhook_subscriptions SET consecutive_failures ="
                               " consecutive_failures + 1 WHERE id = %s RETURNING consecutive_failures, status,"
                               " tenant_id, org_id, url", (sub_id,)).fetchone()
            if sub["status"] == "active" and sub["consecutive_failures"] >= self.settings.pause_after:
                conn.execute("UPDATE platform.webhook_subscriptions SET status = 'paused', paused_at = now(),"
                             " paused_reason = %s, version = version + 1, updated_at = now() WHERE id = %s",
                             (f"{sub['consecutive_failures']} failed attempts in a row", sub_id))
                _tell_owner(conn, sub_id, sub["tenant_id"], sub["org_id"], sub["consecutive_failures"])
                out.paused = True
                log.warning("webhook subscription %s paused after %d failed attempts", sub_id,
                            sub["consecutive_failures"])
            elif not final:
                out.retry_in = delay
        return out


def _host(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


def event_id(row: dict[str, Any]) -> UUID:
    """The event's id: one per (record, version), the same in every delivery and replay."""
    return uuid.uuid5(row["originator_id"], str(row["originator_version"]))


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise WebhookError("description", "must be a string")
    value = value.strip()
    if len(value) > 200:
        raise WebhookError("description", "must be at most 200 characters")
    return value


def _tell_owner(conn: Any, sub_id: UUID, tenant_id: UUID | None, org_id: UUID | None, failures: int) -> None:
    """A notification in the inbox (infra/inbox.py) of each of the owner's
    users who may manage webhooks: the agency's agency users, or the
    organisation's users. Inbox only: the mail digest is of statements."""
    if org_id is not None:
        users = conn.execute("SELECT id FROM platform.users WHERE org_id = %s", (org_id,)).fetchall()
    else:
        users = conn.execute("SELECT id FROM platform.users WHERE tenant_id = %s AND role = 'agency'",
                             (tenant_id,)).fetchall()
    notice = uuid.uuid4()
    for u in users:
        conn.execute("INSERT INTO platform.notifications (notice_id, recipient, tenant_id, user_id, org_id, kind,"
                     " subscription_id, lines) VALUES (%s, %s, %s, %s, %s, 'webhook_paused', %s, %s)"
                     " ON CONFLICT DO NOTHING",
                     (notice, f"user:{u['id']}", tenant_id, u["id"], org_id, sub_id, failures))


def head_position(tenant_db: EventStoreDatabase, tenant: Tenant) -> int:
    """The tenant's latest event position (0: none yet)."""
    with tenant_db.connection() as conn:
        row = conn.execute(sql.SQL("SELECT coalesce(max(notification_id), 0) AS head FROM {}.{}").format(
            sql.Identifier(EVENTS_SCHEMA), sql.Identifier(tenant.events_table))).fetchone()
    return row["head"]

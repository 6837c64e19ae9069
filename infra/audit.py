"""Audit: verify a tenant's hash chain, sign its head, export it.

Heads are signed with Ed25519 (`cryptography`): SIGNING_KEY is the base64 of
the 32-byte private seed. In development, without SIGNING_KEY, a key is made
once and kept in <data_dir>/signing-key (mode 0600); production refuses to
start signing without one. `sroi keys public` prints the public key partners
use with `sroi verify-export`.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from psycopg import sql

from infra.chain import ChainBreak, ChainVerifier, genesis
from infra.eventstore import META_KEY, SCHEMA, EventStoreDatabase, Tenant, make_transcoder
from infra.export_verify import EXPORT_FORMAT, head_message
from infra.settings import Settings

HEADS_DDL = """
CREATE TABLE IF NOT EXISTS platform.chain_heads (
    tenant_id uuid NOT NULL,
    position bigint NOT NULL,
    hash bytea NOT NULL,
    signed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    public_key text NOT NULL,
    signature text NOT NULL,
    PRIMARY KEY (tenant_id, signed_at)
);
"""

# Exports requested from the audit pages, run by a worker (infra/export_jobs.py).
EXPORT_JOBS_DDL = """
CREATE TABLE IF NOT EXISTS platform.export_jobs (
    id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    requested_by uuid NOT NULL,
    status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    done bigint NOT NULL DEFAULT 0,
    total bigint,
    path text,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX IF NOT EXISTS export_jobs_tenant_created_idx ON platform.export_jobs (tenant_id, created_at DESC);
"""


class SigningKeyMissing(RuntimeError):
    pass


def load_signing_key(settings: Settings) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    raw: bytes | None = None
    if settings.signing_key:
        raw = base64.b64decode(settings.signing_key)
    else:
        if settings.is_production:
            raise SigningKeyMissing("SIGNING_KEY must be set in production (base64 of a 32-byte Ed25519 seed)")
        path = settings.data_dir / "signing-key"
        if path.exists():
            raw = base64.b64decode(path.read_text().strip())
        else:
            raw = os.urandom(32)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(raw).decode())
    if len(raw) != 32:
        raise SigningKeyMissing("SIGNING_KEY must be the base64 of exactly 32 bytes")
    return Ed25519PrivateKey.from_private_bytes(raw)


def public_key_b64(private_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return base64.b64encode(private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def migrate(database: EventStoreDatabase) -> None:
    with database.connection() as conn:
        conn.execute(HEADS_DDL)
        conn.execute(EXPORT_JOBS_DDL)


@dataclass(frozen=True)
class SignedHead:
    tenant_id: str
    events_table: str
    position: int
    hash_hex: str
    signed_at: str
    key_id: str
    public_key: str
    signature: str

    def as_record(self) -> dict[str, Any]:
        return {"type": "head", "position": self.position, "hash": self.hash_hex,
                "signed_at": self.signed_at, "key_id": self.key_id, "public_key": self.public_key,
                "signature": self.signature}


def _events(database: EventStoreDatabase, tenant: Tenant, batch: int = 5000,
            columns: str = "notification_id, originator_id, originator_version, topic, state, chain_hash, recorded_at"
            ) -> Iterator[dict[str, Any]]:
    last = 0
    select = sql.SQL("SELECT " + columns + " FROM {}.{} WHERE notification_id > %s "
                     "ORDER BY notification_id LIMIT %s").format(
        sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))
    while True:
        with database.connection() as conn:
            rows = conn.execute(select, (last, batch)).fetchall()
        if not rows:
            return
        yield from rows
        last = rows[-1]["notification_id"]


def head_of(database: EventStoreDatabase, tenant: Tenant) -> tuple[int, bytes]:
    """(position, hash) of the tenant's last event; (0, genesis) for none."""
    with database.connection() as conn:
        row = conn.execute(sql.SQL("SELECT notification_id, chain_hash FROM {}.{} "
                                   "ORDER BY notification_id DESC LIMIT 1").format(
            sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))).fetchone()
    if row is None:
        return 0, genesis(tenant.events_table)
    return row["notification_id"], bytes(row["chain_hash"])


def sign_head(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
              private_key: Any) -> SignedHead:
    position, digest = head_of(database, tenant)
    signed_at = datetime.now(timezone.utc).isoformat()
    message = head_message(str(tenant.id), tenant.events_table, position, digest.hex(), signed_at)
    public = public_key_b64(private_key)
    head = SignedHead(str(tenant.id), tenant.events_table, position, digest.hex(), signed_at,
                      key_id(public), public, base64.b64encode(private_key.sign(message)).decode())
    with platform_db.connection() as conn:
        conn.execute("INSERT INTO platform.chain_heads (tenant_id, position, hash, signed_at, key_id,"
                     " public_key, signature) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                     (tenant.id, position, digest, signed_at, head.key_id, public, head.signature))
    return head


def latest_signed_head(platform_db: EventStoreDatabase, tenant: Tenant) -> dict[str, Any] | None:
    with platform_db.connection() as conn:
        return conn.execute("SELECT position, hash, signed_at, key_id FROM platform.chain_heads"
                            " WHERE tenant_id = %s ORDER BY signed_at DESC LIMIT 1", (tenant.id,)).fetchone()


@dataclass
class VerifyReport:
    ok: bool
    events: int
    message: str
    bad_position: int | None = None


def verify_tenant(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
                  progress: Callable[[int], None] | None = None) -> VerifyReport:
    verifier = ChainVerifier(tenant.events_table)
    hashes_at: dict[int, bytes] = {}
    head = latest_signed_head(platform_db, tenant)
    try:
        for row in _events(database, tenant):
            digest = verifier.add(row["notification_id"], row["originator_id"], row["originator_version"],
                                  row["topic"], bytes(row["state"]),
                                  bytes(row["chain_hash"]) if row["chain_hash"] is not None else None)
            if head is not None and row["notification_id"] == head["position"]:
                hashes_at[head["position"]] = digest
            if progress:
                progress(1)
    except ChainBreak as e:
        return VerifyReport(False, verifier.count, str(e), e.position)
    if head is not None and head["position"] > 0:
        found = hashes_at.get(head["position"])
        if found is None:
            return VerifyReport(False, verifier.count,
                                f"the head signed at {head['signed_at']} is position {head['position']}, "
                                f"which is no longer in the chain (events removed)",
                                min(head["position"], verifier.last_position + 1))
        if found != bytes(head["hash"]):
            return VerifyReport(False, verifier.count, "the chain differs from the signed head at position "
                                f"{head['position']}", head["position"])
    signed = f"; matches the head signed at {head['signed_at']}" if head else "; no signed head yet"
    return VerifyReport(True, verifier.count, f"{verifier.count} events, chain intact{signed}")


def export_tenant(platform_db: EventStoreDatabase, database: EventStoreDatabase, tenant: Tenant,
                  private_key: Any, out: Path, progress: Callable[[int], None] | None = None) -> SignedHead:
    """JSON Lines: header, every event (stored bytes, hash, metadata), then a freshly signed head.

    The head is signed first and the events are written up to its position, so
    events committed during the export do not make it inconsistent."""
    head = sign_head(platform_db, database, tenant, private_key)
    transcoder = make_transcoder()
    tmp = out.with_suffix(out.suffix + ".part")
    with tmp.open("w") as fh:
        fh.write(json.dumps({
            "type": "header", "format": EXPORT_FORMAT,
            "tenant": {"id": str(tenant.id), "slug": tenant.slug, "name": tenant.name},
            "events_table": tenant.events_table, "genesis": genesis(tenant.events_table).hex(),
            "exported_at": datetime.now(timezone.utc).isoformat(),
        }) + "\n")
        for row in _events(database, tenant):
            if row["notification_id"] > head.position:
                break
            state = bytes(row["state"])
            try:
                meta = transcoder.decode(state).get(META_KEY)
            except Exception:
                meta = None  # encrypted or foreign: the stored bytes still verify
            fh.write(json.dumps({
                "type": "event", "position": row["notification_id"],
                "originator_id": str(row["originator_id"]), "version": row["originator_version"],
                "topic": row["topic"], "recorded_at": row["recorded_at"].isoformat() if row["recorded_at"] else None,
                "metadata": meta, "state": base64.b64encode(state).decode(),
                "hash": bytes(row["chain_hash"]).hex() if row["chain_hash"] is not None else None,
            }, default=str) + "\n")
            if progress:
                progress(1)
        fh.write(json.dumps(head.as_record()) + "\n")
    tmp.replace(out)
    return head


def count_events(database: EventStoreDatabase, tenant: Tenant) -> int:
    with database.connection() as conn:
        return conn.execute(sql.SQL("SELECT count(*) AS n FROM {}.{}").format(
            sql.Identifier(SCHEMA), sql.Identifier(tenant.events_table))).fetchone()["n"]

"""Personal data in stored events, encrypted with a key per person.

Crypto-shredding: each data subject (a candidate, a contact person) gets a
random 256-bit data key; the personal fields of their events are stored as
one AES-GCM blob under that key, and the key itself is stored wrapped
(AES-GCM) under the platform's key-encryption key (DATA_KEY, never in the
database). Erasing a person deletes their wrapped key: their data in every
event, backup and export becomes unreadable, while the stored bytes, and so
the hash chain, stay exactly as they were. Figures do not depend on those
fields (placements are valued when they start; see ContributionValued).

Library: `cryptography` (AESGCM). Which fields of which events are personal is
listed in PERSONAL_FIELDS, next to the domain's DATA_CLASSIFICATION maps.
"""
from __future__ import annotations

import base64
from binascii import b2a_base64 as _b64
import copy
import os
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.ids import random_bytes
from infra.database import bytea_array, uuid_array
from infra.secrets import load_secret
from infra.settings import Settings

PERSONAL_KEY = "_personal"
ERASED = "[erased]"
CONTACT_NAMESPACE = uuid.UUID("6f4d5e0a-3c1b-4b8e-9a57-1d2c3e4f5a6b")

# event name -> (how to find the subject, the personal fields)
#   "originator": the aggregate is the person (a candidate)
#   "candidate_field": the person is the event's candidate_id (feedback on their placement)
#   "contact": the contact person, identified by employer id + email
PERSONAL_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "CandidateRegistered": ("originator", ("full_name", "date_of_birth", "target_group", "benefit_since",
                                           "qualifies_via", "support_needs", "status_holder", "competences")),
    "CompetencesUpdated": ("originator", ("competences",)),
    "SupportNeedsStated": ("originator", ("support_needs",)),
    # What the person offers for matching: hours, from when, and where.
    "AvailabilityStated": ("originator", ("hours_per_week", "available_from", "region")),
    "FeedbackGiven": ("candidate_field", ("comment",)),
    # A placement's valuation in words names the person's target group and age.
    "ContributionValued": ("candidate_field", ("reason",)),
    "ContactPersonAdded": ("contact", ("name", "email", "phone", "role")),
    # A contract's named owners: contact persons of the contract (contract id + email).
    "ContractOwnerNamed": ("contact", ("name", "email")),
    # Support that follows the person (domain/support.py): the person's needs,
    # item labels, adjustment descriptions and notes, under the candidate's key.
    "SupportOpened": ("candidate_field", ("labels",)),
    "ChecklistItemAdded": ("candidate_field", ("label",)),
    "AdjustmentRequested": ("candidate_field", ("description",)),
    "CheckInLogged": ("candidate_field", ("note",)),
    "CoachingSessionLogged": ("candidate_field", ("note",)),
    # Progression (issue 16): a role's title and a training's name, under the
    # person's key (the scale is a code and stays plain, as hours do).
    "RoleChanged": ("candidate_field", ("role",)),
    "TrainingCompleted": ("candidate_field", ("training",)),
    # The employee's own check-in (domain/voice.py): the remark in their own words.
    "CheckInAnswered": ("candidate_field", ("remark",)),
    # A document's file name about a person ("loonstrook Jan Jansen.pdf"): under
    # their key; a document about no one (a purchase invoice) keeps its name plain.
    # Its bytes are sealed under the same key by infra/documents.py.
    "DocumentAttached": ("candidate_field_if_any", ("filename",)),
    # The support schemes judged when a placement starts (domain/duties.py)
    # tell the person's target group; a duties record opened before they were
    # judged names no candidate and holds none of these fields.
    "PlacementDutiesOpened": ("candidate_field_if_any", ("lkv_scheme", "no_risk_scheme", "no_risk_until")),
}

# What an erased field reads as (same type family as the original).
ERASED_VALUES: dict[str, Any] = {
    "full_name": ERASED, "date_of_birth": None, "target_group": None, "benefit_since": None,
    "qualifies_via": None, "support_needs": "", "status_holder": False, "comment": "",
    "name": ERASED, "email": ERASED, "phone": None, "role": None,
    "labels": {}, "label": "", "description": "", "note": "",
    "competences": [], "hours_per_week": None, "available_from": None, "region": None,
    "reason": ERASED, "filename": ERASED, "training": ERASED, "remark": "",
    "lkv_scheme": None, "no_risk_scheme": None, "no_risk_until": None,
}


class PersonErased(Exception):
    """Erasure is final: no data key is ever made again for an erased person, so
    nothing more can be recorded about them (the service answers 409 first)."""

    def __init__(self, subject_id: UUID):
        super().__init__("the person was erased: nothing more is recorded about them")
        self.subject_id = subject_id

def contact_subject(employer_id: UUID, email: str) -> UUID:
    return uuid.uuid5(CONTACT_NAMESPACE, f"{employer_id}:{email.strip().lower()}")


def load_data_key(settings: Settings) -> bytes:
    """The key-encryption key: DATA_KEY (base64, 32 bytes), or in development a
    key kept in <data_dir>/data-key (0600)."""
    return load_secret(settings.data_key, setting="DATA_KEY", dev_file=settings.data_dir / "data-key",
                       production=settings.is_production)


KEYS_DDL = """
CREATE TABLE IF NOT EXISTS events.person_keys (
    tenant_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    wrapped_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, subject_id)
);
CREATE TABLE IF NOT EXISTS events.access_log (
    id bigserial PRIMARY KEY,
    tenant_id uuid NOT NULL,
    at timestamptz NOT NULL DEFAULT now(),
    user_id uuid NOT NULL,
    role text NOT NULL,
    organisation text NOT NULL,
    subject_id uuid NOT NULL,
    fields text[] NOT NULL,
    via text NOT NULL,
    correlation_id text
);
CREATE INDEX IF NOT EXISTS access_log_tenant_at_idx ON events.access_log (tenant_id, at DESC);
CREATE INDEX IF NOT EXISTS access_log_subject_idx ON events.access_log (tenant_id, subject_id, at DESC);
CREATE TABLE IF NOT EXISTS events.erasures (
    tenant_id uuid NOT NULL,
    subject_id uuid NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now(),
    erased_by uuid,
    PRIMARY KEY (tenant_id, subject_id)
);
"""


KEY_SQL = """
SELECT (SELECT wrapped_key FROM events.person_keys WHERE tenant_id = %(t)s AND subject_id = %(s)s) AS wrapped_key,
       EXISTS (SELECT 1 FROM events.erasures WHERE tenant_id = %(t)s AND subject_id = %(s)s) AS erased
"""


PREFETCH_SQL = """
SELECT s.subject_id, k.wrapped_key, e.subject_id IS NOT NULL AS erased
FROM unnest(%(s)s::uuid[]) AS s(subject_id)
LEFT JOIN events.person_keys k ON k.tenant_id = %(t)s AND k.subject_id = s.subject_id
LEFT JOIN events.erasures e ON e.tenant_id = %(t)s AND e.subject_id = s.subject_id
"""
# Expired cache entries are dropped once the cache holds this many.
CACHE_PRUNE_AT = 100_000
# A codec keeps at most this many data keys' ciphers (PersonalDataCodec._cipher).
CIPHERS_KEPT = 4096


class PersonKeys:
    """Data keys per (tenant, person), wrapped under the key-encryption key."""

    def __init__(self, database: Any, kek: bytes, ttl: float = 30.0):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self.database = database
        self._kek = AESGCM(kek)
        self.ttl = ttl
        self._cache: dict[tuple[UUID, UUID], tuple[float, bytes | None, bool]] = {}
        self._lock = threading.Lock()

    def migrate(self) -> None:
        with self.database.connection() as conn:
            conn.execute(KEYS_DDL)
            # Repair: keys made for erased people by versions before erasure was
            # final are destroyed too.
            conn.execute("DELETE FROM events.person_keys k USING events.erasures e"
                         " WHERE k.tenant_id = e.tenant_id AND k.subject_id = e.subject_id")

    @staticmethod
    def _aad(tenant_id: UUID, subject_id: UUID) -> bytes:
        return tenant_id.bytes + subject_id.bytes

    def key(self, tenant_id: UUID, subject_id: UUID, *, create: bool) -> bytes | None:
        """The person's data key; None if erased (or never made and not `create`).

        An erased person's key is never made again (PersonErased), and reads as
        None even if a key row exists: one made after the erasure by an older
        version would open only what was written after it."""
        now = time.monotonic()
        # A read needs no lock: a dict's get is one step, and the cache is
        # replaced whole when pruned (the lock orders the writers).
        hit = self._cache.get((tenant_id, subject_id))
        if hit and hit[0] > now:
            if hit[2]:
                if create:
                    raise PersonErased(subject_id)
                return None
            if hit[1] is not None or not create:
                return hit[1]
        with self.database.connection() as conn:
            row = conn.execute(KEY_SQL, {"t": tenant_id, "s": subject_id}).fetchone()
            erased = bool(row["erased"])
            wrapped = row["wrapped_key"]
            if wrapped is None and create and not erased:
                with conn.transaction():
                    # One transaction at a time per person (erase takes the same lock),
                    # so an erasure committing meanwhile is seen here.
                    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7207))",
                                 (f"{tenant_id}:{subject_id}",))
                    erased = conn.execute("SELECT 1 FROM events.erasures WHERE tenant_id = %s AND subject_id = %s",
                                          (tenant_id, subject_id)).fetchone() is not None
                    if not erased:
                        dek = os.urandom(32)
                        nonce = os.urandom(12)
                        blob = nonce + self._kek.encrypt(nonce, dek, self._aad(tenant_id, subject_id))
                        wrapped = conn.execute(
                            "INSERT INTO events.person_keys (tenant_id, subject_id, wrapped_key) VALUES (%s, %s, %s)"
                            " ON CONFLICT (tenant_id, subject_id) DO UPDATE"
                            " SET wrapped_key = events.person_keys.wrapped_key RETURNING wrapped_key",
                            (tenant_id, subject_id, blob)).fetchone()["wrapped_key"]
        dek = None
        if wrapped is not None and not erased:
            blob = bytes(wrapped)
            dek = self._kek.decrypt(blob[:12], blob[12:], self._aad(tenant_id, subject_id))
        with self._lock:
            self._cache[(tenant_id, subject_id)] = (now + self.ttl, dek, erased)
        if erased and create:
            raise PersonErased(subject_id)
        return dek

    def is_erased(self, tenant_id: UUID, subject_id: UUID) -> bool:
        """Whether the person was erased, read now (no cache: another process may
        have erased them a moment ago). The row is written before CandidateErased."""
        with self.database.connection() as conn:
            return conn.execute("SELECT 1 FROM events.erasures WHERE tenant_id = %s AND subject_id = %s",
                                (tenant_id, subject_id)).fetchone() is not None

    def prefetch(self, tenant_id: UUID, subject_ids: set[UUID]) -> None:
        """The keys of many people in one query (a projection's batch), into the
        cache; what `key` would answer for each, erased people included."""
        now = time.monotonic()
        with self._lock:
            missing = [s for s in subject_ids
                       if (hit := self._cache.get((tenant_id, s))) is None or hit[0] <= now]
            if len(self._cache) > CACHE_PRUNE_AT:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        if not missing:
            return
        with self.database.connection() as conn:
            rows = conn.execute(PREFETCH_SQL, {"t": tenant_id, "s": uuid_array(missing)}).fetchall()
        entries = {}
        for row in rows:
            subject, erased, dek = row["subject_id"], bool(row["erased"]), None
            if row["wrapped_key"] is not None and not erased:
                blob = bytes(row["wrapped_key"])
                dek = self._kek.decrypt(blob[:12], blob[12:], self._aad(tenant_id, subject))
            entries[(tenant_id, subject)] = (now + self.ttl, dek, erased)
        with self._lock:
            self._cache.update(entries)

    def erase(self, tenant_id: UUID, subject_id: UUID, erased_by: UUID | None = None) -> bool:
        """Destroy the person's key; True if there was one."""
        with self.database.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7207))", (f"{tenant_id}:{subject_id}",))
            cur = conn.execute("DELETE FROM events.person_keys WHERE tenant_id = %s AND subject_id = %s",
                               (tenant_id, subject_id))
            conn.execute("INSERT INTO events.erasures (tenant_id, subject_id, erased_by) VALUES (%s, %s, %s)"
                         " ON CONFLICT DO NOTHING", (tenant_id, subject_id, erased_by))
        with self._lock:
            self._cache[(tenant_id, subject_id)] = (time.monotonic() + self.ttl, None, True)
        return cur.rowcount > 0

    def log_read(self, tenant_id: UUID, user_id: UUID, role: str, organisation: str, subject_id: UUID,
                 fields: list[str], via: str, correlation_id: str | None) -> None:
        """Record that someone saw a person's special-category data (GDPR art. 9)."""
        with self.database.connection() as conn:
            conn.execute("INSERT INTO events.access_log (tenant_id, user_id, role, organisation, subject_id,"
                         " fields, via, correlation_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                         (tenant_id, user_id, role, organisation, subject_id, fields, via, correlation_id))

    def forget_cache(self) -> None:
        with self._lock:
            self._cache.clear()


class PersonalDataCodec:
    """Moves an event's personal fields into (and out of) one encrypted blob."""

    def __init__(self, keys: PersonKeys, tenant_id: UUID, transcoder: Any):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aesgcm = AESGCM
        self.keys, self.tenant_id, self.transcoder = keys, tenant_id, transcoder
        self._tenant_bytes = tenant_id.bytes
        # The cipher of each data key in use: making one (its key schedule)
        # costs more than sealing a small event with it, and an import seals
        # a few events per person. Found by the key itself, so only a caller
        # that holds the key (PersonKeys answers None once a person is erased)
        # reaches its cipher; emptied when full.
        self._ciphers: dict[bytes, Any] = {}
        # Each subject's id as text and its associated data (tenant and
        # subject bytes), made once: a placement's row seals three events
        # about its candidate. Emptied when full, as the ciphers.
        self._subjects: dict[UUID, tuple[str, bytes]] = {}

    def _cipher(self, dek: bytes) -> Any:
        cipher = self._ciphers.get(dek)
        if cipher is None:
            if len(self._ciphers) >= CIPHERS_KEPT:
                self._ciphers.clear()
            cipher = self._ciphers[dek] = self._aesgcm(dek)
        return cipher

    def _subject(self, subject: UUID) -> tuple[str, bytes]:
        """The subject's id as text and its associated data (tenant and
        subject bytes), kept as the ciphers are."""
        known = self._subjects.get(subject)
        if known is None:
            if len(self._subjects) >= CIPHERS_KEPT:
                self._subjects.clear()
            known = self._subjects[subject] = (str(subject), self._tenant_bytes + subject.bytes)
        return known

    def subject_of(self, event_name: str, originator_id: UUID, state: Mapping[str, Any]) -> UUID | None:
        rule = PERSONAL_FIELDS.get(event_name)
        if rule is None:
            return None
        how = rule[0]
        if how == "originator":
            return originator_id
        if how in ("candidate_field", "candidate_field_if_any"):
            return state.get("candidate_id")
        if how == "contact":
            return contact_subject(originator_id, str(state.get("email") or ""))
        return None

    def seal(self, event_name: str, originator_id: UUID, state: dict[str, Any]) -> dict[str, Any]:
        rule = PERSONAL_FIELDS.get(event_name)
        if rule is None:
            return state
        subject = self.subject_of(event_name, originator_id, state)
        if subject is None and rule[0] == "candidate_field_if_any":
            return state
        if subject is None:
            raise RuntimeError(f"no data subject known for {event_name} of {originator_id}")
        fields = {f: state.pop(f) for f in rule[1] if f in state}
        dek = self.keys.key(self.tenant_id, subject, create=True)
        nonce = random_bytes(12)
        text, aad = self._subject(subject)
        blob = self._cipher(dek).encrypt(nonce, self.transcoder.encode(fields), aad)
        state[PERSONAL_KEY] = {"subject": text, "nonce": _b64(nonce, newline=False).decode(),
                               "data": _b64(blob, newline=False).decode()}
        return state

    def open(self, event_name: str, state: dict[str, Any], only: frozenset[str] | None = None) -> dict[str, Any]:
        """Put the personal fields back (or their erased values) into `state`;
        with `only`, just those fields (the others are not put back)."""
        sealed = state.pop(PERSONAL_KEY, None)
        if sealed is None:
            return state
        subject = UUID(sealed["subject"])
        dek = self.keys.key(self.tenant_id, subject, create=False)
        fields: dict[str, Any] | None = None
        if dek is not None:
            aad = self._subject(subject)[1]
            plain = self._cipher(dek).decrypt(base64.b64decode(sealed["nonce"]),
                                              base64.b64decode(sealed["data"]), aad)
            fields = self.transcoder.decode(plain)
        if fields is None:  # erased: the fields read as erased, with the right shape
            rule = PERSONAL_FIELDS.get(event_name, ("", ()))
            fields = {f: copy.copy(ERASED_VALUES.get(f)) for f in rule[1]}
        if only is not None:
            fields = {f: v for f, v in fields.items() if f in only}
        state.update(fields)
        return state


def make_new_keys(keys: PersonKeys, tenant_id: UUID, subject_ids: list[UUID]) -> None:
    """Data keys for people recorded for the first time (a spreadsheet import's
    new candidates: ids just made, so no one can have erased them yet), in
    one statement rather than a transaction each, and into the cache. A
    subject already holding a key keeps it; an erased one gets none (the
    seal then refuses, as for one key at a time)."""
    if not subject_ids:
        return
    blobs = []
    made: dict[bytes, bytes] = {}  # each wrapped key made here: its data key
    # The data keys from one read of the system's random source (a system
    # call each was a tenth of this), each a key at once.
    deks = os.urandom(32 * len(subject_ids))
    for i, subject in enumerate(subject_ids):
        nonce, dek = random_bytes(12), deks[32 * i:32 * i + 32]
        blob = nonce + keys._kek.encrypt(nonce, dek, keys._aad(tenant_id, subject))
        blobs.append(blob)
        made[blob] = dek
    with keys.database.connection() as conn:
        rows = conn.execute(
            "INSERT INTO events.person_keys (tenant_id, subject_id, wrapped_key)"
            " SELECT %(t)s, u.s, u.k FROM unnest(%(s)s::uuid[], %(k)s::bytea[]) AS u(s, k)"
            " WHERE NOT EXISTS (SELECT 1 FROM events.erasures e WHERE e.tenant_id = %(t)s AND e.subject_id = u.s)"
            " ON CONFLICT (tenant_id, subject_id) DO UPDATE SET wrapped_key = events.person_keys.wrapped_key"
            " RETURNING subject_id, wrapped_key",
            {"t": tenant_id, "s": uuid_array(subject_ids), "k": bytea_array(blobs)}).fetchall()
    now = time.monotonic()
    entries = {}
    for row in rows:
        blob = bytes(row["wrapped_key"])
        subject = row["subject_id"]
        # A key made here is known; one the person held already is unwrapped.
        dek = made.get(blob)
        if dek is None:
            dek = keys._kek.decrypt(blob[:12], blob[12:], keys._aad(tenant_id, subject))
        entries[(tenant_id, subject)] = (now + keys.ttl, dek, False)
    with keys._lock:
        keys._cache.update(entries)

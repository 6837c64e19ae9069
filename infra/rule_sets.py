"""Rule sets as versioned data of the platform: `platform.rule_sets`.

A rule set (the building blocks, bonuses, hours, cap, counting rules; the
format: docs/rule-sets.md) is owned by an authority organisation or, when
`owner_org_id` is NULL, by the platform. Each (name, version) is one row and
rows are immutable: there is no update path, the table refuses UPDATE and
DELETE, and a change is a new version. Only the owner may add a version of a
name: the users of the owning organisation, or the platform (the CLI) for a
platform rule set.

A body is validated twice before it is stored: against the published JSON
Schema (docs/rule-set.schema.json, draft 2020-12, with the `jsonschema`
library) and then by `domain.valuation.parse_rule_set` (what a schema cannot
say: tiers in ascending order, actual/actual with 365 days). Every error names
the field path (`blocks.ww.tiers[0].value_eur`).

A contract pins a version at registration (the `RuleSets` port below, used by
the service): its events carry name, version, the sha256 of the canonical JSON
and the body, so a new version never changes a pinned contract's figures.

The shipped files (domain/rulesets/) are seeded as platform rule sets at
migrate (idempotent: a (name, version) already stored is left as it is).
"""
from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from jsonschema import Draft202012Validator

from domain.rulesets import seed_files
from domain.valuation import (
    PinnedRuleSet,
    RuleSet,
    RuleSetDataError,
    block_value,
    canonical_json,
    parse_rule_set,
    placement_value,
    rule_set_sha256,
)
from infra.eventstore import EventStoreDatabase

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "docs" / "rule-set.schema.json"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
MAX_BODY_BYTES = 64 * 1024  # a rule set is a few kilobytes

RULE_SETS_DDL = """
CREATE TABLE IF NOT EXISTS platform.rule_sets (
    id uuid PRIMARY KEY,
    name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9-]{1,59}$'),
    version int NOT NULL CHECK (version >= 1),
    -- NULL: a platform rule set (shipped, or imported by the platform's operators)
    owner_org_id uuid REFERENCES platform.organisations(id),
    body jsonb NOT NULL,
    sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    -- the user who published it; NULL: the platform (seed, CLI)
    created_by uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);
CREATE OR REPLACE FUNCTION platform.rule_sets_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rule sets are immutable: publish a new version instead';
END $$;
DROP TRIGGER IF EXISTS rule_sets_immutable ON platform.rule_sets;
CREATE TRIGGER rule_sets_immutable BEFORE UPDATE OR DELETE ON platform.rule_sets
    FOR EACH ROW EXECUTE FUNCTION platform.rule_sets_immutable();
"""


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published JSON Schema of a rule set body (docs/rule-set.schema.json)."""
    return json.loads(SCHEMA_PATH.read_text("utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def body_errors(body: Any) -> list[dict[str, str]]:
    """What is wrong with a rule set body, as [{field, message}] (field: the
    path, e.g. `blocks.ww.tiers[0].value_eur`; `body` for the whole); empty
    when it is valid. The schema first; then parse_rule_set's semantics."""
    errors = []
    for e in sorted(_validator().iter_errors(body), key=lambda e: (list(map(str, e.absolute_path)), e.message)):
        while e.context:  # oneOf/anyOf: the branch that got furthest into the body says what is wrong
            e = max(e.context, key=lambda sub: len(sub.absolute_path))
        field = _path(e.absolute_path)
        if e.validator == "required" and (missing := _REQUIRED.match(e.message)):
            field = _path([*e.absolute_path, missing.group(1)])
        elif e.validator == "additionalProperties" and isinstance(e.instance, dict):
            allowed = set(e.schema.get("properties", {}))
            extra = sorted(k for k in e.instance if k not in allowed and not _patterned(e.schema, k))
            field = _path([*e.absolute_path, extra[0]]) if extra else field
        elif "propertyNames" in e.absolute_schema_path:
            field = _path([*e.absolute_path, e.instance])  # the key itself is what is wrong
        message = e.message
        if e.validator == "pattern" and isinstance(e.schema, dict) and e.schema.get("description"):
            message = f"{json.dumps(e.instance)} is not valid here. {e.schema['description']}"
        errors.append({"field": field or "body", "message": message})
    if errors:
        return sorted(errors, key=lambda e: (e["field"], e["message"]))
    try:
        parse_rule_set(body)
    except RuleSetDataError as e:
        return [{"field": e.field or "body", "message": str(e)}]
    return []


_REQUIRED = re.compile(r"^'([^']+)' is a required property$")


def _patterned(schema_: dict, key: str) -> bool:
    return any(re.search(p, key) for p in schema_.get("patternProperties", {}))


class RuleSetInvalid(ValueError):
    """A rule set that cannot be stored: `errors` [{field, message}] name what."""

    def __init__(self, errors: list[dict[str, str]], detail: str = "the rule set is not valid"):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


class RuleSetForbidden(PermissionError):
    """Adding a version of a name someone else owns, or by a role that may not."""


@dataclass(frozen=True)
class StoredRuleSet:
    id: UUID
    name: str
    version: int
    owner_org_id: UUID | None
    owner_name: str | None
    body: dict[str, Any]
    sha256: str
    created_by: UUID | None
    created_at: datetime

    @property
    def pinned(self) -> PinnedRuleSet:
        return PinnedRuleSet(name=self.name, version=self.version, sha256=self.sha256, body=self.body)

    def summary(self) -> dict[str, Any]:
        """As listed: without the body."""
        return {"name": self.name, "version": self.version,
                "owner": {"org_id": str(self.owner_org_id), "name": self.owner_name}
                if self.owner_org_id else {"org_id": None, "name": "platform"},
                "sha256": self.sha256, "source": self.body.get("source"),
                "created_at": self.created_at.isoformat()}

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "body": self.body,
                "created_by": str(self.created_by) if self.created_by else None}


_SELECT = """SELECT r.*, o.name AS owner_name FROM platform.rule_sets r
LEFT JOIN platform.organisations o ON o.id = r.owner_org_id"""


def _row(row: dict[str, Any]) -> StoredRuleSet:
    body = row["body"]
    return StoredRuleSet(id=row["id"], name=row["name"], version=row["version"], owner_org_id=row["owner_org_id"],
                         owner_name=row.get("owner_name"), body=json.loads(body) if isinstance(body, str) else body,
                         sha256=row["sha256"], created_by=row["created_by"], created_at=row["created_at"])


class RuleSetStore:
    """platform.rule_sets on the default database."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.db = platform_db

    def migrate(self) -> None:
        """The table, then the shipped files as platform rule sets (idempotent).
        Called inside TenantRegistry.migrate (after platform.organisations)."""
        with self.db.connection() as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(7202)")
                conn.execute(RULE_SETS_DDL)
        self.seed()

    def seed(self) -> list[tuple[str, int]]:
        """Store each shipped file (domain/rulesets/) as a platform rule set
        unless its (name, version) is stored already; the ones added. A stored
        row is never changed: a file that differs from it is logged."""
        added = []
        for file_name, text in seed_files():
            body = json.loads(text)
            errors = body_errors(body)
            if errors:
                raise RuleSetInvalid(errors, f"shipped rule set {file_name} is not valid")
            stored = self.get(body["name"], body["version"])
            if stored is None:
                try:
                    stored = self._insert(body, owner_org_id=None, created_by=None)
                    added.append((stored.name, stored.version))
                except RuleSetInvalid:  # another process seeded it meanwhile
                    stored = self.get(body["name"], body["version"])
            if stored is not None and stored.sha256 != rule_set_sha256(body):
                log.warning("shipped rule set %s differs from the stored %s v%s (kept as stored: rule sets "
                            "are immutable; ship a new version instead)", file_name, stored.name, stored.version)
        return added

    # -- reading ---------------------------------------------------------------
    def list(self, name: str | None = None) -> list[StoredRuleSet]:
        with self.db.connection() as conn:
            rows = conn.execute(f"{_SELECT} WHERE %s::text IS NULL OR r.name = %s ORDER BY r.name, r.version",
                                (name, name)).fetchall()
        return [_row(r) for r in rows]

    def get(self, name: str, version: int | None = None) -> StoredRuleSet | None:
        """That version, or with version None the highest of that name."""
        with self.db.connection() as conn:
            row = conn.execute(f"{_SELECT} WHERE r.name = %s AND (%s::int IS NULL OR r.version = %s)"
                               " ORDER BY r.version DESC LIMIT 1", (name, version, version)).fetchone()
        return _row(row) if row else None

    # -- publishing ------------------------------------------------------------
    def publish(self, body: Any, *, owner_org_id: UUID | None, created_by: UUID | None) -> StoredRuleSet:
        """Store a new rule set version owned by `owner_org_id` (None: the
        platform). RuleSetInvalid (422) names the fields; RuleSetForbidden if the
        name belongs to another owner; a (name, version) that exists is invalid
        (`version`: the next free one is named)."""
        if not isinstance(body, dict):
            raise RuleSetInvalid([{"field": "body", "message": "a rule set is a JSON object"}])
        if len(canonical_json(body).encode("utf-8")) > MAX_BODY_BYTES:
            raise RuleSetInvalid([{"field": "body", "message": f"a rule set is at most {MAX_BODY_BYTES} bytes"}])
        errors = body_errors(body)
        if errors:
            raise RuleSetInvalid(errors)
        name, version = body["name"], body["version"]
        if not NAME_RE.match(name):
            raise RuleSetInvalid([{"field": "name", "message": "name must be 2-60 characters: lowercase letters, "
                                                               "digits and '-' (e.g. utrecht-2025)"}])
        existing = self.list(name)
        owners = {r.owner_org_id for r in existing}
        if existing and owners != {owner_org_id}:
            owner = existing[0].owner_name or "the platform"
            raise RuleSetForbidden(f"rule set {name} belongs to {owner}: only its owner adds versions; "
                                   "choose another name")
        return self._insert(body, owner_org_id=owner_org_id, created_by=created_by)

    def _insert(self, body: dict[str, Any], *, owner_org_id: UUID | None, created_by: UUID | None) -> StoredRuleSet:
        text = canonical_json(body)
        try:
            with self.db.connection() as conn:
                row = conn.execute(
                    "INSERT INTO platform.rule_sets (id, name, version, owner_org_id, body, sha256, created_by)"
                    " VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s) RETURNING *",
                    (uuid.uuid4(), body["name"], body["version"], owner_org_id, text, rule_set_sha256(body),
                     created_by)).fetchone()
        except Exception as e:
            if isinstance(e, psycopg.errors.UniqueViolation) or isinstance(e.__cause__, psycopg.errors.UniqueViolation):
                latest = self.get(body["name"])
                following = (latest.version + 1) if latest else 1
                raise RuleSetInvalid([{"field": "version", "message":
                                       f"{body['name']} version {body['version']} exists already: rule sets "
                                       f"are immutable, publish version {following}"}]) from None
            raise
        stored = self.get(row["name"], row["version"]) or _row(row)  # with its owner's name
        if stored.sha256 != rule_set_sha256(stored.body):  # jsonb kept the body as given
            raise RuntimeError(f"rule set {stored.name} v{stored.version} changed in storage")
        return stored


async def rule_sets_async(pool: Any) -> list[StoredRuleSet]:
    """Every rule set version, by name and version (the web's read pool)."""
    rows = await pool.fetch(f"{_SELECT} ORDER BY r.name, r.version")
    return [_row(dict(r)) for r in rows]


async def rule_set_async(pool: Any, name: str, version: int | None = None) -> StoredRuleSet | None:
    """That version (None: the highest of the name), or None."""
    row = await pool.fetchrow(f"{_SELECT} WHERE r.name = $1 AND ($2::int IS NULL OR r.version = $2)"
                              " ORDER BY r.version DESC LIMIT 1", name, version)
    return _row(dict(row)) if row else None


class PlatformRuleSets:
    """The service's `RuleSets` port (service/ports.py) on platform.rule_sets."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.store = RuleSetStore(platform_db)

    def find(self, name: str, version: int | None) -> PinnedRuleSet | None:
        found = self.store.get(name, version)
        return found.pinned if found else None


__all__ = ["PlatformRuleSets", "RuleSetForbidden", "RuleSetInvalid", "RuleSetStore", "StoredRuleSet",
           "body_errors", "schema"]


# -- the sample placement of the page's live preview ---------------------------
SAMPLE_YEAR = (date(2025, 1, 1), date(2025, 12, 31))  # 365 days
SAMPLE_AWARDED_ON = date(2024, 12, 1)
SAMPLE_PERSON = {"target_group": "participatiewet", "benefit_since": date(2022, 1, 1),  # 35 months on benefit
                 "date_of_birth": date(1985, 6, 1), "status_holder": False, "permanent_contract": False}
SAMPLE_HOURS = (Decimal(36), Decimal(18))


def sample_values(rules: RuleSet) -> list[dict[str, Any]]:
    """What a rule set makes of a sample placement: a Participatiewet person
    (on benefit since 2022-01-01, aged 39 at the award on 2024-12-01) placed
    for the year 2025 at 36 and at 18 hours a week; each with its value and
    the reason in words (not eligible: 0)."""
    block = block_value(rules, judged_on=SAMPLE_AWARDED_ON, **SAMPLE_PERSON)
    first, last = SAMPLE_YEAR
    out = []
    for hours in SAMPLE_HOURS:
        history = [{"effective_on": first, "hours_per_week": hours}]
        value = placement_value(rules, block, history, first, None, first, last, first, last)
        out.append({"hours_per_week": str(hours), "value_eur": str(value.quantize(Decimal("0.01"))),
                    "eligible": block.eligible, "reason": block.reason})
    return out

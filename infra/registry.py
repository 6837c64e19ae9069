"""The platform registry: tenants, organisations, their users and API tokens.

Organisations (contracting authorities and employers) are the platform's, not
a tenant's: each has a real identifier (KvK number, 8 digits; OIN for
government bodies, 20 digits) and users of its own, who have no tenant
(`platform.users`: exactly one of tenant_id and org_id). What an agency
shares with an organisation is in its own history (docs/architecture.md,
"Platform organisations").

Lives in the `platform` schema of the default database. Tenant identifiers
(slug, id, database key, events table) come only from here, never from a
request. API tokens are random 256-bit strings, stored as SHA-256 hashes: a
database leak does not reveal usable tokens, and lookup stays one indexed
query (a slow password hash is for passwords, which have low entropy).

Each token has an id of its own (listed, revoked by; never the secret), an
expiry (API_TOKEN_DAYS unless chosen, at most MAX_TOKEN_DAYS) and the time it
was last used (written at most once a minute). Revoking deletes the row; the
web looks every request's token up in the database, without a cache, so a
revoked token is refused at once by every process.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import psycopg
from argon2 import PasswordHasher

from infra.eventstore import EventStoreDatabase, Tenant, TenantStores, events_table_for
from infra.rule_sets import RuleSetStore
from infra.settings import MAX_TOKEN_DAYS

ROLES = ("agency", "employer", "authority", "auditor", "employee")
# The languages a user's mail is written in (the pages': web/i18n); Dutch unless chosen.
USER_LANGUAGES = ("nl", "en")
DEFAULT_USER_LANGUAGE = "nl"
ORGANISATION_KINDS = ("authority", "employer")  # an organisation user's role is its organisation's kind
KVK_RE = re.compile(r"^[0-9]{8}$")
OIN_RE = re.compile(r"^[0-9]{20}$")
SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "sroi_"
LABEL_MAX = 100
DEFAULT_TOKEN_DAYS = 90
# How stale `last_used_at` may get before a request writes it again: a busy
# token costs one write a minute, not one per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# How stale a process's cached view of a tenant or user may be (the worker's
# tenants, the pages' viewers): `sroi tenant move` waits this long (and more)
# after switching before it removes the old copy.
REGISTRY_CACHE_SECONDS = 5.0

_password_hasher = PasswordHasher()
_DUMMY_HASH = _password_hasher.hash("not a password: evens out the timing of unknown emails")

PLATFORM_DDL = """
CREATE SCHEMA IF NOT EXISTS platform;
CREATE TABLE IF NOT EXISTS platform.tenants (
    id uuid PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    name text NOT NULL,
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    database text NOT NULL DEFAULT 'default',
    events_table text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS platform.organisations (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('authority', 'employer')),
    name text NOT NULL,
    kvk text UNIQUE CHECK (kvk ~ '^[0-9]{8}$'),
    oin text UNIQUE CHECK (oin ~ '^[0-9]{20}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organisations_one_identifier CHECK ((kvk IS NULL) <> (oin IS NULL))
);
CREATE TABLE IF NOT EXISTS platform.users (
    id uuid PRIMARY KEY,
    tenant_id uuid REFERENCES platform.tenants(id),
    email text NOT NULL UNIQUE,
    role text NOT NULL,
    organisation text NOT NULL,
    employer_id uuid,
    candidate_id uuid,
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Users of an organisation have no tenant (tables from before had tenant_id NOT NULL).
ALTER TABLE platform.users ADD COLUMN IF NOT EXISTS org_id uuid REFERENCES platform.organisations(id);
ALTER TABLE platform.users ALTER COLUMN tenant_id DROP NOT NULL;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_tenant_or_organisation') THEN
        ALTER TABLE platform.users ADD CONSTRAINT users_tenant_or_organisation
            CHECK ((tenant_id IS NULL) <> (org_id IS NULL));
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS users_org_idx ON platform.users (org_id) WHERE org_id IS NOT NULL;
-- The language of what is sent to the user (the notification digests): Dutch unless chosen.
ALTER TABLE platform.users ADD COLUMN IF NOT EXISTS lang text NOT NULL DEFAULT 'nl';
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_lang') THEN
        ALTER TABLE platform.users ADD CONSTRAINT users_lang CHECK (lang IN ('nl', 'en'));
    END IF;
END $$;
CREATE TABLE IF NOT EXISTS platform.api_tokens (
    token_hash bytea PRIMARY KEY,
    id uuid NOT NULL UNIQUE,
    user_id uuid NOT NULL REFERENCES platform.users(id),
    label text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz
);
"""

# A table from before tokens had ids and expired: each token gets an id, and
# the default lifetime from the upgrade on.
TOKEN_UPGRADE = [
    "ALTER TABLE platform.api_tokens ADD COLUMN id uuid, ADD COLUMN label text NOT NULL DEFAULT '',"
    " ADD COLUMN expires_at timestamptz, ADD COLUMN last_used_at timestamptz",
    "UPDATE platform.api_tokens SET id = gen_random_uuid(), expires_at = now() + make_interval(days => %s)",
    "ALTER TABLE platform.api_tokens ALTER COLUMN id SET NOT NULL, ALTER COLUMN expires_at SET NOT NULL,"
    " ADD CONSTRAINT api_tokens_id_key UNIQUE (id)",
]
TOKEN_INDEX = "CREATE INDEX IF NOT EXISTS api_tokens_user_idx ON platform.api_tokens (user_id)"


class RegistryError(ValueError):
    """Bad input to the registry; `field` names the offending input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class TenantNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Organisation:
    """A contracting authority or an employer of the platform."""

    id: UUID
    kind: str
    name: str
    kvk: str | None
    oin: str | None
    created_at: datetime | None = None

    @property
    def identifier(self) -> str:
        return f"KvK {self.kvk}" if self.kvk else f"OIN {self.oin}"


@dataclass(frozen=True)
class User:
    """A user of one tenant (tenant_id) or of one organisation (org_id)."""

    id: UUID
    tenant_id: UUID | None
    email: str
    role: str
    organisation: str
    employer_id: UUID | None = None
    candidate_id: UUID | None = None
    org_id: UUID | None = None
    lang: str = DEFAULT_USER_LANGUAGE  # the language of their mail


@dataclass(frozen=True)
class ApiToken:
    """A token as listed: its id, never the secret."""

    id: UUID
    user_id: UUID
    label: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    expired: bool


@dataclass(frozen=True)
class TokenPrincipal:
    """Who a presented token speaks for, and whether it still may. An
    organisation's user has no tenant: each request finds the tenant that
    owns the record it names (web/api/auth.py)."""

    tenant: Tenant | None
    user: User
    token_id: UUID
    expires_at: datetime
    expired: bool


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _tenant(row: dict[str, Any]) -> Tenant:
    return Tenant(id=row["id"], slug=row["slug"], name=row["name"], status=row["status"],
                  database=row["database"], events_table=row["events_table"])


def _user(row: dict[str, Any]) -> User:
    return User(id=row["user_id"], tenant_id=row["tenant_id"], email=row["email"],
                role=row["role"], organisation=row["organisation"],
                employer_id=row["employer_id"], candidate_id=row["candidate_id"], org_id=row["org_id"],
                lang=row.get("lang") or DEFAULT_USER_LANGUAGE)


def _language(lang: str | None) -> str:
    lang = (lang or DEFAULT_USER_LANGUAGE).strip().lower()
    if lang not in USER_LANGUAGES:
        raise RegistryError(f"lang must be one of {', '.join(USER_LANGUAGES)}", "lang")
    return lang


def _organisation(row: dict[str, Any]) -> Organisation:
    return Organisation(id=row["id"], kind=row["kind"], name=row["name"], kvk=row["kvk"], oin=row["oin"],
                        created_at=row["created_at"])


def _api_token(row: dict[str, Any]) -> ApiToken:
    return ApiToken(id=row["id"], user_id=row["user_id"], label=row["label"], created_at=row["created_at"],
                    expires_at=row["expires_at"], last_used_at=row["last_used_at"], expired=row["expired"])


def _token_principal(row: dict[str, Any]) -> TokenPrincipal:
    tenant = _tenant(row) if row["id"] is not None else None
    return TokenPrincipal(tenant=tenant, user=_user(row), token_id=row["token_id"],
                          expires_at=row["expires_at"], expired=row["expired"])


def token_days(days: int | None, default: int) -> int:
    """A token's lifetime in days: given, or the default; 1 to MAX_TOKEN_DAYS."""
    if days is None:
        days = default
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        raise RegistryError(f"days must be a whole number from 1 to {MAX_TOKEN_DAYS}", "days")
    return days


TOKEN_COLUMNS = ("k.id, k.user_id, k.label, k.created_at, k.expires_at, k.last_used_at,"
                 " k.expires_at <= now() AS expired")

# One indexed lookup per request (primary key, then two primary-key joins).
PRINCIPAL_BY_TOKEN_SQL = """
SELECT u.id AS user_id, u.tenant_id, u.email, u.role, u.organisation, u.employer_id,
       u.candidate_id, u.org_id, t.id, t.slug, t.name, t.status, t.database, t.events_table,
       k.id AS token_id, k.expires_at, k.expires_at <= now() AS expired,
       (k.last_used_at IS NULL OR k.last_used_at < now() - make_interval(secs => """ + str(
    int(LAST_USED_RESOLUTION.total_seconds())) + """)) AS note_use
FROM platform.api_tokens k
JOIN platform.users u ON u.id = k.user_id
LEFT JOIN platform.tenants t ON t.id = u.tenant_id
WHERE k.token_hash = {param}
"""
NOTE_USE_SQL = "UPDATE platform.api_tokens SET last_used_at = now() WHERE id = {param}"


class TenantRegistry:
    def __init__(self, platform_db: EventStoreDatabase, stores: TenantStores,
                 token_days: int = DEFAULT_TOKEN_DAYS):
        self.db = platform_db
        self.stores = stores
        self.token_days = token_days
        # The platform's rule sets (infra/rule_sets.py), beside its organisations.
        self.rule_sets = RuleSetStore(platform_db)

    def migrate(self) -> None:
        with self.db.connection() as conn:
            with conn.transaction():
                # Serialise concurrent migrations (web and worker start together).
                conn.execute("SELECT pg_advisory_xact_lock(7201)")
                conn.execute(PLATFORM_DDL)
                upgraded = conn.execute(
                    "SELECT 1 FROM information_schema.columns WHERE table_schema = 'platform'"
                    " AND table_name = 'api_tokens' AND column_name = 'expires_at'").fetchone()
                if upgraded is None:
                    for statement in TOKEN_UPGRADE:
                        conn.execute(statement, (self.token_days,) if "%s" in statement else None)
                conn.execute(TOKEN_INDEX)
        self.rule_sets.migrate()  # the table, and the shipped rule sets seeded

    # -- tenants -----------------------------------------------------------
    def create_tenant(self, slug: str, name: str, database: str = "default") -> Tenant:
        slug = (slug or "").strip().lower()
        if not SLUG_RE.match(slug):
            raise RegistryError(
                "slug must be 2-40 characters: lowercase letters, digits and '-', "
                "starting with a letter", "slug")
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise RegistryError("name must be 1-200 characters", "name")
        target = self.stores.database(database)
        tenant_id = uuid.uuid4()
        tenant = Tenant(id=tenant_id, slug=slug, name=name, status="active",
                        database=database, events_table=events_table_for(tenant_id))
        # Tables first (idempotent), then the registry row: a tenant that is
        # listed always has its tables.
        target.create_tenant_tables(tenant)
        try:
            with self.db.connection() as conn:
                conn.execute(
                    "INSERT INTO platform.tenants (id, slug, name, status, database, events_table)"
                    " VALUES (%s, %s, %s, 'active', %s, %s)",
                    (tenant.id, slug, name, database, tenant.events_table))
        except Exception as e:
            if isinstance(e.__cause__, psycopg.errors.UniqueViolation):
                self._drop_tables(target, tenant)
                raise RegistryError(f"a tenant with slug {slug!r} already exists", "slug") from None
            raise
        return tenant

    def _drop_tables(self, target: EventStoreDatabase, tenant: Tenant) -> None:
        from psycopg import sql
        with target.connection() as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}.{}").format(
                sql.Identifier("events"), sql.Identifier(tenant.events_table)))

    def list_tenants(self) -> list[Tenant]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT * FROM platform.tenants ORDER BY slug").fetchall()
        return [_tenant(r) for r in rows]

    def tenant_by_slug(self, slug: str) -> Tenant:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM platform.tenants WHERE slug = %s", (slug,)).fetchone()
        if row is None:
            raise TenantNotFound(f"no tenant with slug {slug!r}")
        return _tenant(row)

    def tenant_by_id(self, tenant_id: UUID) -> Tenant:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM platform.tenants WHERE id = %s", (tenant_id,)).fetchone()
        if row is None:
            raise TenantNotFound(f"no tenant with id {tenant_id}")
        return _tenant(row)

    def set_status(self, slug: str, status: str) -> Tenant:
        if status not in ("active", "suspended"):
            raise RegistryError("status must be 'active' or 'suspended'", "status")
        with self.db.connection() as conn:
            row = conn.execute(
                "UPDATE platform.tenants SET status = %s WHERE slug = %s RETURNING *",
                (status, slug)).fetchone()
        if row is None:
            raise TenantNotFound(f"no tenant with slug {slug!r}")
        tenant = _tenant(row)
        self.stores.forget(tenant.id)
        return tenant

    def move_entry(self, tenant: Tenant, to: str) -> Tenant:
        """Name database `to` as the tenant's (`sroi tenant move`, infra/tenant_move.py,
        once the copy there is complete): only if the entry still names the
        database the copy was made from."""
        with self.db.connection() as conn:
            row = conn.execute("UPDATE platform.tenants SET database = %s WHERE id = %s AND database = %s"
                               " RETURNING *", (to, tenant.id, tenant.database)).fetchone()
        if row is None:
            raise RegistryError(f"tenant {tenant.slug!r} is no longer on database {tenant.database!r}", "database")
        moved = _tenant(row)
        self.stores.forget(moved.id)
        return moved

    def rename_tenant(self, slug: str, new_slug: str) -> Tenant:
        if not SLUG_RE.match(new_slug):
            raise RegistryError("slug must be 2-40 characters: lowercase letters, digits and '-'", "slug")
        with self.db.connection() as conn:
            row = conn.execute("UPDATE platform.tenants SET slug = %s WHERE slug = %s RETURNING *",
                               (new_slug, slug)).fetchone()
        if row is None:
            raise TenantNotFound(f"no tenant with slug {slug!r}")
        tenant = _tenant(row)
        self.stores.forget(tenant.id)
        return tenant

    # -- users and tokens --------------------------------------------------
    def create_user(self, tenant: Tenant, email: str, role: str, *,
                    employer_id: UUID | None = None, candidate_id: UUID | None = None,
                    organisation: str | None = None, password: str | None = None,
                    lang: str | None = None) -> User:
        email = (email or "").strip().lower()
        if not EMAIL_RE.match(email):
            raise RegistryError("email must look like name@example.org", "email")
        lang = _language(lang)
        if role not in ROLES:
            raise RegistryError(f"role must be one of {', '.join(ROLES)}", "role")
        if role == "employer" and employer_id is None:
            raise RegistryError("an employer user needs --employer (the employer's id)", "employer")
        if role == "employee" and candidate_id is None:
            raise RegistryError("an employee user needs --candidate (the candidate's id)", "candidate")
        if role == "authority" and not organisation:
            raise RegistryError("an authority user needs --organisation (the contracting authority's name, as on its contracts)", "organisation")
        if organisation is None:
            organisation = f"employer:{employer_id}" if employer_id else tenant.slug
        password_hash = _password_hasher.hash(password) if password else None
        user_id = uuid.uuid4()
        try:
            with self.db.connection() as conn:
                conn.execute(
                    "INSERT INTO platform.users (id, tenant_id, email, role, organisation,"
                    " employer_id, candidate_id, password_hash, lang) VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    (user_id, tenant.id, email, role, organisation, employer_id, candidate_id,
                     password_hash, lang))
        except Exception as e:
            if isinstance(e.__cause__, psycopg.errors.UniqueViolation):
                raise RegistryError(f"a user with email {email!r} already exists", "email") from None
            raise
        return User(id=user_id, tenant_id=tenant.id, email=email, role=role,
                    organisation=organisation, employer_id=employer_id, candidate_id=candidate_id, lang=lang)

    # -- organisations and their users -------------------------------------
    def create_organisation(self, kind: str, name: str, *, kvk: str | None = None,
                            oin: str | None = None) -> Organisation:
        """A contracting authority or an employer, with its KvK number (8
        digits) or, for a government body, its OIN (20 digits): one of them."""
        if kind not in ORGANISATION_KINDS:
            raise RegistryError(f"kind must be one of {', '.join(ORGANISATION_KINDS)}", "kind")
        name = " ".join((name or "").split())
        if not name or len(name) > 200:
            raise RegistryError("name must be 1-200 characters", "name")
        kvk = (kvk or "").strip() or None
        oin = (oin or "").strip() or None
        if (kvk is None) == (oin is None):
            raise RegistryError("give the KvK number (--kvk) or the OIN (--oin), one of them", "kvk")
        if kvk is not None and not KVK_RE.match(kvk):
            raise RegistryError(f"kvk must be 8 digits (a KvK number), not {kvk!r}", "kvk")
        if oin is not None and not OIN_RE.match(oin):
            raise RegistryError(f"oin must be 20 digits (an OIN), not {oin!r}", "oin")
        try:
            with self.db.connection() as conn:
                row = conn.execute(
                    "INSERT INTO platform.organisations (id, kind, name, kvk, oin) VALUES (%s, %s, %s, %s, %s)"
                    " RETURNING *", (uuid.uuid4(), kind, name, kvk, oin)).fetchone()
        except Exception as e:
            if isinstance(e.__cause__, psycopg.errors.UniqueViolation):
                field = "kvk" if kvk is not None else "oin"
                raise RegistryError(f"an organisation with {field} {kvk or oin} already exists", field) from None
            raise
        return _organisation(row)

    def list_organisations(self, kind: str | None = None) -> list[Organisation]:
        with self.db.connection() as conn:
            rows = conn.execute("SELECT * FROM platform.organisations WHERE %s::text IS NULL OR kind = %s"
                                " ORDER BY name, id", (kind, kind)).fetchall()
        return [_organisation(r) for r in rows]

    def organisation(self, org_id: UUID) -> Organisation | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT * FROM platform.organisations WHERE id = %s", (org_id,)).fetchone()
        return _organisation(row) if row else None

    def create_org_user(self, org_id: UUID, email: str, role: str, *, password: str | None = None,
                        lang: str | None = None) -> User:
        """A user of an organisation (no tenant): its role is the organisation's kind."""
        email = (email or "").strip().lower()
        if not EMAIL_RE.match(email):
            raise RegistryError("email must look like name@example.org", "email")
        lang = _language(lang)
        org = self.organisation(org_id)
        if org is None:
            raise RegistryError(f"no organisation with id {org_id}", "org")
        if role != org.kind:
            raise RegistryError(f"role must be {org.kind!r}: the organisation is an {org.kind}"
                                if org.kind == "authority" else
                                f"role must be {org.kind!r}: the organisation is an {org.kind}", "role")
        password_hash = _password_hasher.hash(password) if password else None
        user_id = uuid.uuid4()
        try:
            with self.db.connection() as conn:
                conn.execute(
                    "INSERT INTO platform.users (id, tenant_id, org_id, email, role, organisation, password_hash,"
                    " lang) VALUES (%s, NULL, %s, %s, %s, %s, %s, %s)",
                    (user_id, org.id, email, role, org.name, password_hash, lang))
        except Exception as e:
            if isinstance(e.__cause__, psycopg.errors.UniqueViolation):
                raise RegistryError(f"a user with email {email!r} already exists", "email") from None
            raise
        return User(id=user_id, tenant_id=None, email=email, role=role, organisation=org.name, org_id=org.id,
                    lang=lang)

    def issue_token(self, user: User, *, days: int | None = None, label: str = "") -> str:
        """A new token for the user (the secret: shown once, stored only as its hash)."""
        return self.create_token(user.id, days=days, label=label)[1]

    def create_token(self, user_id: UUID, *, days: int | None = None, label: str = "",
                     now: datetime | None = None) -> tuple[ApiToken, str]:
        """The new token as listed, and its secret. `now` (the moment it is
        issued; default the clock) lets a test issue one that has run out."""
        days = token_days(days, self.token_days)
        label = " ".join((label or "").split())
        if len(label) > LABEL_MAX:
            raise RegistryError(f"label must be at most {LABEL_MAX} characters", "label")
        issued = now or datetime.now(timezone.utc)
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.connection() as conn:
            row = conn.execute(
                "INSERT INTO platform.api_tokens AS k (token_hash, id, user_id, label, created_at, expires_at)"
                f" VALUES (%s, %s, %s, %s, %s, %s) RETURNING {TOKEN_COLUMNS}",
                (hash_token(secret), uuid.uuid4(), user_id, label, issued, issued + timedelta(days=days))
            ).fetchone()
        return _api_token(row), secret

    def tokens_of(self, user_id: UUID) -> list[ApiToken]:
        """The user's tokens, newest first (expired ones too, until revoked)."""
        with self.db.connection() as conn:
            rows = conn.execute(f"SELECT {TOKEN_COLUMNS} FROM platform.api_tokens k WHERE k.user_id = %s"
                                " ORDER BY k.created_at DESC, k.id", (user_id,)).fetchall()
        return [_api_token(r) for r in rows]

    def revoke_token(self, token_id: UUID, *, owner: UUID | None = None) -> ApiToken | None:
        """Delete the token (only if `owner` holds it, when given); None if there is no such token."""
        with self.db.connection() as conn:
            row = conn.execute(
                f"DELETE FROM platform.api_tokens k WHERE k.id = %s AND (%s::uuid IS NULL OR k.user_id = %s)"
                f" RETURNING {TOKEN_COLUMNS}", (token_id, owner, owner)).fetchone()
        return _api_token(row) if row else None

    def principal_for_token(self, token: str) -> TokenPrincipal | None:
        with self.db.connection() as conn:
            row = conn.execute(PRINCIPAL_BY_TOKEN_SQL.format(param="%s"),
                               (hash_token(token),)).fetchone()
            if row is not None and row["note_use"] and not row["expired"]:
                conn.execute(NOTE_USE_SQL.format(param="%s"), (row["token_id"],))
        return _token_principal(row) if row else None

    def authenticate(self, email: str, password: str) -> tuple[Tenant | None, User] | None:
        """The user and tenant (None for an organisation's user) for a correct
        email and password, else None.

        A wrong email costs the same hash verification as a wrong password,
        so timing does not tell which emails exist."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT u.id AS user_id, u.tenant_id, u.email, u.role, u.organisation, u.employer_id,"
                " u.candidate_id, u.org_id, u.password_hash, t.id, t.slug, t.name, t.status, t.database,"
                " t.events_table"
                " FROM platform.users u LEFT JOIN platform.tenants t ON t.id = u.tenant_id WHERE u.email = %s",
                ((email or "").strip().lower(),)).fetchone()
        stored = row["password_hash"] if row and row["password_hash"] else _DUMMY_HASH
        try:
            _password_hasher.verify(stored, password or "")
        except Exception:
            return None
        if row is None or not row["password_hash"]:
            return None
        return (_tenant(row) if row["id"] is not None else None), _user(row)

    def set_password(self, email: str, password: str) -> None:
        if len(password or "") < 10:
            raise RegistryError("password must be at least 10 characters", "password")
        with self.db.connection() as conn:
            cur = conn.execute("UPDATE platform.users SET password_hash = %s WHERE email = %s",
                               (_password_hasher.hash(password), (email or "").strip().lower()))
        if cur.rowcount == 0:
            raise RegistryError(f"no user with email {email!r}", "email")

    def set_language(self, email: str, lang: str) -> None:
        """The language of the user's mail from now on."""
        lang = _language(lang)
        with self.db.connection() as conn:
            cur = conn.execute("UPDATE platform.users SET lang = %s WHERE email = %s",
                               (lang, (email or "").strip().lower()))
        if cur.rowcount == 0:
            raise RegistryError(f"no user with email {email!r}", "email")

    def user_by_email(self, email: str) -> User | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT id AS user_id, * FROM platform.users WHERE email = %s",
                ((email or "").strip().lower(),)).fetchone()
        return _user(row) if row else None


async def principal_for_token_async(pool: Any, token: str) -> TokenPrincipal | None:
    """The same lookup on an asyncpg pool, for the web's request path."""
    row = await pool.fetchrow(PRINCIPAL_BY_TOKEN_SQL.format(param="$1"), hash_token(token))
    if row is None:
        return None
    if row["note_use"] and not row["expired"]:
        await pool.execute(NOTE_USE_SQL.format(param="$1"), row["token_id"])
    return _token_principal(row)  # an asyncpg Record reads by column name as a dict does


async def tenant_by_id_async(pool: Any, tenant_id: UUID) -> Tenant | None:
    """A tenant by id on an asyncpg pool (an organisation user's request, once
    the share index named the tenant that owns the record)."""
    row = await pool.fetchrow("SELECT * FROM platform.tenants WHERE id = $1", tenant_id)
    return _tenant(row) if row else None


async def tenants_by_id_async(pool: Any, tenant_ids: Iterable[UUID]) -> dict[UUID, Tenant]:
    """The tenants by id, on the platform's asyncpg pool (the names and
    databases a list across tenants joins to its rows, in Python)."""
    rows = await pool.fetch("SELECT * FROM platform.tenants WHERE id = ANY($1::uuid[])", list(set(tenant_ids)))
    return {r["id"]: _tenant(r) for r in rows}


AGENCY_USERS_SQL = ("SELECT id, email FROM platform.users WHERE tenant_id = {param} AND role = 'agency'"
                    " ORDER BY email")


def agency_users(platform_db: EventStoreDatabase, tenant_id: UUID) -> dict[UUID, str]:
    """The tenant's agency users: id -> e-mail (who may look after a placement, who gets reminders)."""
    with platform_db.connection() as conn:
        rows = conn.execute(AGENCY_USERS_SQL.format(param="%s"), (tenant_id,)).fetchall()
    return {r["id"]: r["email"] for r in rows}


def employee_addresses(platform_db: EventStoreDatabase, tenant_id: UUID, candidate_id: UUID) -> list[str]:
    """The person's own accounts in the tenant: their e-mails (an erased
    person's accounts keep none: close_accounts_of)."""
    with platform_db.connection() as conn:
        rows = conn.execute("SELECT email FROM platform.users WHERE tenant_id = %s AND candidate_id = %s"
                            " AND role = 'employee' AND email NOT LIKE '%%@erased.invalid' ORDER BY email",
                            (tenant_id, candidate_id)).fetchall()
    return [r["email"] for r in rows]


async def agency_users_async(pool: Any, tenant_id: UUID) -> dict[UUID, str]:
    """The same on an asyncpg pool, for the pages' choice of a responsible user."""
    rows = await pool.fetch(AGENCY_USERS_SQL.format(param="$1"), tenant_id)
    return {r["id"]: r["email"] for r in rows}


def close_accounts_of(platform_db: EventStoreDatabase, tenant_id: UUID, candidate_id: UUID) -> int:
    """Close the accounts of an erased person (GDPR art. 17): their API tokens and
    page sessions are deleted, and their users row keeps no e-mail and no
    password (a placeholder under the random user id), so they can no longer
    sign in and nothing in the row identifies them. Returns how many accounts."""
    with platform_db.connection() as conn, conn.transaction():
        users = [r["id"] for r in conn.execute(
            "SELECT id FROM platform.users WHERE tenant_id = %s AND candidate_id = %s FOR UPDATE",
            (tenant_id, candidate_id)).fetchall()]
        if not users:
            return 0
        conn.execute("DELETE FROM platform.api_tokens WHERE user_id = ANY(%s)", (users,))
        if conn.execute("SELECT to_regclass('platform.sessions') IS NOT NULL AS present").fetchone()["present"]:
            # A session's data names its user (and e-mail): web/pages/sessions.py.
            for user_id in users:
                conn.execute("DELETE FROM platform.sessions WHERE position(convert_to(%s, 'UTF8') IN data) > 0",
                             (str(user_id),))
        conn.execute("UPDATE platform.users SET email = 'erased-' || id || '@erased.invalid', password_hash = NULL"
                     " WHERE id = ANY(%s)", (users,))
    return len(users)


class PlatformOrganisations:
    """The service's `Organisations` port (service/ports.py) on platform.organisations."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.platform_db = platform_db

    def find(self, org_id: UUID) -> Organisation | None:
        with self.platform_db.connection() as conn:
            row = conn.execute("SELECT * FROM platform.organisations WHERE id = %s", (org_id,)).fetchone()
        return _organisation(row) if row else None


class PlatformAccounts:
    """The service's `Accounts` port (service/ports.py) on the platform's users."""

    def __init__(self, platform_db: EventStoreDatabase):
        self.platform_db = platform_db

    def agency_user_ids(self, tenant_id: UUID) -> frozenset[UUID]:
        return frozenset(agency_users(self.platform_db, tenant_id))

    def close_accounts_of(self, tenant_id: UUID, candidate_id: UUID) -> int:
        return close_accounts_of(self.platform_db, tenant_id, candidate_id)

"""Settings, read once from the environment by the composition root.

Nothing here runs at import time: `Settings.from_env()` is called by the
entry points (CLI, web app factory, worker, tests) and the result is passed
down explicitly.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The longest an API token may last (a year, leap day included): a token that
# leaked still stops working one day.
MAX_TOKEN_DAYS = 366


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _int(environ: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _proxies(environ: dict[str, str]) -> tuple[str, ...]:
    """TRUSTED_PROXIES: addresses or networks (CIDR) of the proxies in front of
    the web processes, separated by commas. Only a request from one of them may
    say, in X-Forwarded-For, which client it comes from."""
    raw = environ.get("TRUSTED_PROXIES", "")
    proxies = []
    for item in (p.strip() for p in raw.replace(" ", ",").split(",")):
        if not item:
            continue
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"TRUSTED_PROXIES must list IP addresses or networks (CIDR), "
                                f"separated by commas; {item!r} is neither") from None
    return tuple(proxies)


def _document_store(environ: dict[str, str]) -> Path | None:
    """DOCUMENT_STORE: `database` (or unset) or `directory:/absolute/path`."""
    raw = (environ.get("DOCUMENT_STORE") or "database").strip()
    if raw == "database":
        return None
    kind, _, where = raw.partition(":")
    if kind == "directory" and where and Path(where).is_absolute():
        return Path(where)
    raise SettingsError("DOCUMENT_STORE must be `database` or `directory:/absolute/path`")


def _bool(environ: dict[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {environ[name]!r}")


def _seconds(environ: dict[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 86400:
        raise SettingsError(f"{name} must be more than 0 and at most 86400 seconds, got {raw!r}")
    return value


def _webhook_allow_private(environ: dict[str, str], environment: str) -> bool:
    allow = _bool(environ, "WEBHOOK_ALLOW_PRIVATE", False)
    if allow and environment == "production":
        raise SettingsError("WEBHOOK_ALLOW_PRIVATE must not be set in production (webhooks would reach"
                            " the private network)")
    return allow


def _token_days(environ: dict[str, str]) -> int:
    days = _int(environ, "API_TOKEN_DAYS", 90)
    if days > MAX_TOKEN_DAYS:
        raise SettingsError(f"API_TOKEN_DAYS must be at most {MAX_TOKEN_DAYS}, got {days}")
    return days


@dataclass(frozen=True)
class DatabaseSettings:
    # None means: start the embedded PostgreSQL under data_dir.
    url: str | None
    # Connections for the write side (psycopg, shared by every tenant and the
    # registry) plus the read side (asyncpg, web only). The sum is the most a
    # process ever holds, whatever the number of tenants.
    pool_size: int = 12
    read_pool_size: int = 6
    # Extra databases that tenants may be placed on: {"key": "postgresql://..."}.
    # The tenant registry records the key; "default" is `url`.
    tenant_databases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    database: DatabaseSettings
    broker_url: str | None
    secret_key: str
    data_dir: Path
    max_body_bytes: int = 64 * 1024
    aggregate_cache_size: int = 1000
    tenant_app_cache_size: int = 2000
    environment: str = "development"
    # Ed25519 private key (base64 of the 32-byte seed) that signs chain heads.
    signing_key: str | None = None
    # A worker signs the chain head of every tenant that changed within this
    # many seconds of the change (HEAD_SIGN_SECONDS; infra/audit.HeadSigner).
    head_sign_seconds: int = 30
    # Key-encryption key for personal data keys (base64 of 32 bytes).
    data_key: str | None = None
    # Outgoing mail (duty reminders): unset means no mail is sent (infra/mail.py).
    smtp_url: str | None = None
    mail_from: str = "SROI Ledger <noreply@localhost>"
    # Where the pages are reached: the links in notification mails (unset: paths only).
    public_url: str | None = None
    # Proxies whose X-Forwarded-For / -Proto headers are believed (empty: none,
    # the peer address is the client's).
    trusted_proxies: tuple[str, ...] = ()
    # Server-Timing on every response (app, database and rendering time, the
    # number of queries): for developers and benchmarks, not for the public,
    # since it tells an outsider how much work a request caused. Off unless
    # SERVER_TIMING=1; `sroi run` (the demo on this machine) turns it on.
    server_timing: bool = False
    # Days a new API token lasts unless its creator chooses otherwise.
    api_token_days: int = 90
    # Attached documents (infra/documents.py): at most this many bytes a file,
    # and this many in all per tenant.
    document_max_bytes: int = 10 * 1024 * 1024
    document_quota_bytes: int = 1024 * 1024 * 1024
    # Where the documents' stored bytes are kept (DOCUMENT_STORE): None, in
    # the tenant's database (`database`, the default); a folder
    # (`directory:/absolute/path`), one subfolder per tenant of
    # content-addressed files (infra/documents.py DirectoryDocumentStore).
    document_directory: Path | None = None
    # Webhooks (infra/webhooks.py, docs/webhooks.md). WEBHOOK_ALLOW_PRIVATE=1
    # lets subscriptions post to http:// and to loopback or private addresses
    # (tests, a development machine); refused in production.
    webhook_allow_private: bool = False
    webhook_pause_after: int = 15  # consecutive failed attempts before a subscription pauses
    webhook_max_attempts: int = 8  # tries of one delivery before it is failed (a replay starts afresh)
    webhook_retry_seconds: float = 30.0  # the first retry's delay; x4 per further failure, at most 6 h
    webhook_timeout_seconds: float = 10.0
    # How often the worker's sweep follows every followed tenant's log (the
    # safety net: each catch-up of a tenant follows it at once). Every tenant
    # when an organisation subscribes, so not every few seconds.
    webhook_follow_seconds: float = 60.0
    # Days a finished delivery (succeeded, or failed after its last try) and
    # its attempts stay in the log, to be read and replayed; then pruned.
    webhook_log_days: int = 30
    # Processes that store a large spreadsheet import's batches side by side
    # (IMPORT_PROCESSES; service/importing.py): each a child of the process
    # running the import, with its own connections, for that import only.
    # 1: the import runs in its own process alone.
    import_processes: int = 1

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if environ is None else environ)
        environment = env.get("SROI_ENV", "development")
        secret = env.get("SECRET_KEY", "")
        if not secret:
            if environment == "production":
                raise SettingsError("SECRET_KEY must be set when SROI_ENV=production")
            # Development only: a per-process key (sessions do not survive restarts).
            secret = secrets.token_urlsafe(32)
        raw_tenant_dbs = env.get("TENANT_DATABASES", "")
        try:
            tenant_dbs = json.loads(raw_tenant_dbs) if raw_tenant_dbs else {}
        except json.JSONDecodeError as e:
            raise SettingsError(f"TENANT_DATABASES must be a JSON object: {e}") from None
        if not isinstance(tenant_dbs, dict):
            raise SettingsError("TENANT_DATABASES must be a JSON object of key -> URL")
        return cls(
            database=DatabaseSettings(
                url=env.get("DATABASE_URL") or None,
                pool_size=_int(env, "DB_POOL_SIZE", 12),
                read_pool_size=_int(env, "DB_READ_POOL_SIZE", 6),
                tenant_databases={str(k): str(v) for k, v in tenant_dbs.items()},
            ),
            broker_url=env.get("BROKER_URL") or None,
            secret_key=secret,
            data_dir=Path(env.get("SROI_DATA_DIR") or PROJECT_ROOT / ".data"),
            max_body_bytes=_int(env, "MAX_BODY_BYTES", 64 * 1024),
            aggregate_cache_size=_int(env, "AGGREGATE_CACHE_SIZE", 1000),
            tenant_app_cache_size=_int(env, "TENANT_APP_CACHE_SIZE", 2000),
            environment=environment,
            signing_key=env.get("SIGNING_KEY") or None,
            head_sign_seconds=_int(env, "HEAD_SIGN_SECONDS", 30),
            data_key=env.get("DATA_KEY") or None,
            smtp_url=env.get("SMTP_URL") or None,
            mail_from=env.get("MAIL_FROM") or "SROI Ledger <noreply@localhost>",
            public_url=(env.get("PUBLIC_URL") or "").rstrip("/") or None,
            trusted_proxies=_proxies(env),
            server_timing=_bool(env, "SERVER_TIMING", False),
            api_token_days=_token_days(env),
            document_max_bytes=_int(env, "DOCUMENT_MAX_BYTES", 10 * 1024 * 1024),
            document_quota_bytes=_int(env, "DOCUMENT_QUOTA_BYTES", 1024 * 1024 * 1024),
            document_directory=_document_store(env),
            webhook_allow_private=_webhook_allow_private(env, environment),
            webhook_pause_after=_int(env, "WEBHOOK_PAUSE_AFTER", 15),
            webhook_max_attempts=_int(env, "WEBHOOK_MAX_ATTEMPTS", 8),
            webhook_retry_seconds=_seconds(env, "WEBHOOK_RETRY_SECONDS", 30.0),
            webhook_timeout_seconds=_seconds(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0),
            webhook_follow_seconds=_seconds(env, "WEBHOOK_FOLLOW_SECONDS", 60.0),
            webhook_log_days=_int(env, "WEBHOOK_LOG_DAYS", 30),
            import_processes=_int(env, "IMPORT_PROCESSES", min(os.cpu_count() or 1, 4)),
        )

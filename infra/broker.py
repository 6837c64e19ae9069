"""The dramatiq broker, chosen by BROKER_URL.

PostgreSQL broker: `dramatiq-postgres` 1.4.0 (2026-09, import name `dramatiq_postgres`).
It declares dramatiq>=2,<3 and psycopg 3 + psycopg_pool (both already ours), claims
messages with `FOR UPDATE SKIP LOCKED`, wakes consumers by LISTEN/NOTIFY, requeues the
messages of dead workers (heartbeat table), and ships `schema.init()`, which creates its
schema under a transaction-scoped advisory lock (idempotent, safe from concurrent processes).
Rejected: `dramatiq-pg` 0.12.0 (2024-07, last release): it pins dramatiq<2.0 (pip
cannot install it next to dramatiq 2.2.1 without a downgrade), imports psycopg2
without declaring it, pins tenacity<9, uses the name `dramatiq.errors.ConnectionError`
that dramatiq 2 deprecated, and its schema.sql (bare CREATE TYPE/TABLE) is not idempotent.

Choice by URL (see `make_broker`):
  amqp:// or amqps://            RabbitMQ (dramatiq's RabbitmqBroker)
  postgres:// or postgresql://   PostgreSQL at that URL
  unset / empty                  PostgreSQL at the application database (DATABASE_URL or
                                 the embedded server): a fresh machine needs no broker server
  stub://                        dramatiq's in-memory StubBroker, for unit tests only

Messages of the PostgreSQL broker live in the schema `dramatiq` (PG_SCHEMA) of that
database: table `dramatiq.queue` (one row per queued or in-flight message, deleted on ack,
kept as 'rejected' for 30 days on nack), `dramatiq.worker` (worker heartbeats),
`dramatiq.result` (unused: results are off) and the enum type `dramatiq.state`.
`ensure_broker_schema` creates them; call it at startup before any worker consumes.

Nothing here connects at import time, and nothing sets dramatiq's global broker except
`install_broker`. Building a broker opens no connection either: RabbitMQ connects on first
use, and the PostgreSQL broker's pool starts with zero connections.

Caveat: dramatiq_postgres keeps its SQL in a module-level object that each broker rebinds
to its schema, so a process uses one broker schema; we always pass PG_SCHEMA explicitly.
Its `init` only creates a missing schema and never migrates one: upgrading the
library past a release that changes schema.sql needs a migration, hence the exact pin.
"""
from __future__ import annotations

import copy
import logging
from urllib.parse import urlsplit

import dramatiq
from dramatiq.brokers.stub import StubBroker

log = logging.getLogger(__name__)

#: Schema that holds the PostgreSQL broker's tables in the chosen database.
PG_SCHEMA = "dramatiq"
#: The PostgreSQL broker's connections per process at most (the pool opens them as needed).
BROKER_MAXCONN = 10

_AMQP_SCHEMES = frozenset({"amqp", "amqps"})
_PG_SCHEMES = frozenset({"postgres", "postgresql"})
_STUB_SCHEMES = frozenset({"stub"})


def _scheme(url: str) -> str:
    if "://" not in url:
        return ""
    return urlsplit(url).scheme.lower()


def _resolve(broker_url: str | None, database_url: str | None) -> tuple[str, str]:
    """('amqp' | 'postgres' | 'stub', url to use), or ValueError naming the variable."""
    if broker_url:
        scheme = _scheme(broker_url)
        if scheme in _AMQP_SCHEMES:
            return "amqp", broker_url
        if scheme in _STUB_SCHEMES:
            return "stub", broker_url
        if scheme in _PG_SCHEMES:
            return "postgres", broker_url
        raise ValueError(
            f"BROKER_URL has an unsupported scheme {scheme or '(none)'!r}: use amqp:// "
            "(RabbitMQ), postgresql:// (PostgreSQL), or leave BROKER_URL unset to queue "
            "messages in the application database"
        )
    if not database_url:
        raise ValueError(
            "BROKER_URL is unset, so the broker uses the application database, "
            "but no database URL was given (DATABASE_URL or the embedded server's URL)"
        )
    if _scheme(database_url) not in _PG_SCHEMES:
        raise ValueError(
            "BROKER_URL is unset, so the broker uses the application database, "
            "whose URL must start with postgresql:// or postgres://"
        )
    return "postgres", database_url


def make_broker(broker_url: str | None, database_url: str | None) -> dramatiq.Broker:
    """A new broker for BROKER_URL; `database_url` is the application database.

    Does not connect and does not set the global broker (see `install_broker`).
    For PostgreSQL, run `ensure_broker_schema` once at startup before consuming.
    """
    kind, url = _resolve(broker_url, database_url)
    if kind == "amqp":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker  # needs pika

        return RabbitmqBroker(url=url)
    if kind == "stub":
        return StubBroker()
    from dramatiq_postgres import PostgresBroker

    # The library's pool would hold up to 16 connections per process; a web
    # process only enqueues, and a worker holds one per queue and delay queue
    # (three queues: projections, projections-catch-up, webhooks) plus one
    # listener, and enqueues from its threads; so cap it unless the URL says
    # otherwise (?maxconn=N).
    if "maxconn=" not in url:
        url += ("&" if "?" in url else "?") + f"maxconn={BROKER_MAXCONN}"

    # results=False: no Results middleware, as with RabbitMQ. schema/prefix are passed
    # explicitly so the library's module-level queries are bound to PG_SCHEMA.
    return PostgresBroker(url=url, schema=PG_SCHEMA, prefix="", results=False)


def install_broker(broker: dramatiq.Broker) -> None:
    """Make `broker` dramatiq's global broker (used by actors declared without one)."""
    dramatiq.set_broker(broker)


def ensure_broker_schema(
    broker_url: str | None,
    database_url: str | None,
    *,
    schema: str = PG_SCHEMA,
    connect_timeout: int = 10,
) -> bool:
    """Create the PostgreSQL broker's schema and tables if missing.

    Idempotent and safe to run from several processes at once: dramatiq_postgres'
    `init` takes a transaction-scoped advisory lock before checking for the table.
    Returns True if this call created the schema. A no-op (False) for RabbitMQ and
    the stub broker. `schema` exists for tests; brokers always use PG_SCHEMA.
    """
    kind, url = _resolve(broker_url, database_url)
    if kind != "postgres":
        return False
    import psycopg
    from dramatiq_postgres.schema import init

    # The URL's query string may carry libpq parameters (e.g. ?host=/socket/dir, as the
    # embedded server gives); psycopg reads them from the URL itself.
    with psycopg.connect(url, connect_timeout=connect_timeout) as conn:
        with conn.cursor() as curs:
            created = init(curs, schema=schema, prefix="")
        # Leaving the connection block commits, which releases the advisory lock.
    if created:
        log.info("created the dramatiq broker schema %r", schema)
    return created


def broker_ready(broker: dramatiq.Broker, timeout: float = 2.0) -> bool:
    """Whether the broker answers now (for GET /ready); never raises for a down broker.

    RabbitMQ: opens a short-lived connection and a channel with the broker's own
    parameters (the broker's per-thread connections are left alone). PostgreSQL: takes
    a connection from the broker's pool and checks that its queue table exists.
    """
    if isinstance(broker, StubBroker):
        return True

    from dramatiq_postgres import PostgresBroker

    if isinstance(broker, PostgresBroker):
        return _postgres_ready(broker, timeout)

    try:
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
    except ImportError:  # pragma: no cover - pika missing
        RabbitmqBroker = None  # type: ignore[assignment,misc]
    if RabbitmqBroker is not None and isinstance(broker, RabbitmqBroker):
        return _rabbitmq_ready(broker, timeout)

    raise TypeError(f"broker_ready does not know {type(broker).__name__}")


def _postgres_ready(broker, timeout: float) -> bool:
    try:
        with broker.pool.connection(timeout=timeout) as conn:
            # to_regclass takes no lock on the table, so DDL elsewhere cannot block it.
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'"{PG_SCHEMA}"."queue"',)
            ).fetchone()
    except Exception as e:  # noqa: BLE001 - any failure means "not ready"
        log.warning("PostgreSQL broker not ready: %s", e)
        return False
    if not (row and row[0]):
        log.warning("PostgreSQL broker not ready: table %s.queue is missing", PG_SCHEMA)
        return False
    return True


def _rabbitmq_ready(broker, timeout: float) -> bool:
    import pika

    def bounded(params):
        params = copy.copy(params)  # shallow: ssl_options may hold an SSLContext
        params.connection_attempts = 1
        params.retry_delay = 0
        params.socket_timeout = timeout
        params.stack_timeout = timeout
        params.blocked_connection_timeout = timeout
        return params

    raw = broker.parameters
    params = [bounded(p) for p in raw] if isinstance(raw, list) else bounded(raw)
    connection = None
    try:
        connection = pika.BlockingConnection(params)
        channel = connection.channel()
        channel.close()
        return True
    except Exception as e:  # noqa: BLE001 - any failure means "not ready"
        log.warning("RabbitMQ broker not ready: %s", e)
        return False
    finally:
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # noqa: BLE001
                pass

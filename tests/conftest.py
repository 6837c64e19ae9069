"""Shared fixtures: one real PostgreSQL for the whole run.

DATABASE_URL set: its server is used, with a database of our own
(`sroi_test_<pid>`, created for the run and dropped after it). Unset: the embedded PostgreSQL that the
project runs itself (pgserver, under .data/pg). Tests share the database and
isolate themselves by creating tenants with random slugs, as in production.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from infra.bootstrap import System, bootstrap
from infra.database import drop_database, ensure_database_exists, resolve_database_url, with_database
from infra.eventstore import Tenant
from infra.settings import Settings
from service.actor import Actor
from tests.api.openapi_check import OpenAPICheck

# One database per run, so two runs on one server never drop each other's.
TEST_DATABASE = f"sroi_test_{os.getpid()}"


def _server_url(settings: Settings) -> str:
    return resolve_database_url(settings.database.url, settings.data_dir, dbname="postgres")


# The test world's webhook subscriptions name a public address this machine
# cannot reach: every worker process a test starts (they inherit this
# environment) gives up on it after a second, not the production 10, so its
# threads stay free for the projections the tests wait for.
os.environ.setdefault("WEBHOOK_TIMEOUT_SECONDS", "1")


@pytest.fixture(scope="session")
def settings() -> Settings:
    env = dict(os.environ)
    env.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
    env.pop("BROKER_URL", None)  # the embedded default (PostgreSQL broker) unless a test says otherwise
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def database_url(settings: Settings) -> Iterator[str]:
    url = with_database(_server_url(settings), TEST_DATABASE)
    drop_database(url)
    ensure_database_exists(url)
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def system(settings: Settings, database_url: str) -> Iterator[System]:
    sys_ = bootstrap(settings, database_url=database_url)
    yield sys_
    sys_.close()


@pytest.fixture(scope="session")
def openapi_check(system: System) -> OpenAPICheck:
    """The app's OpenAPI, to check the API tests' answers against (tests/api/openapi_check.py)."""
    from web.app import create_app

    return OpenAPICheck(create_app(system).openapi_schema.to_schema())


def random_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def tenant(system: System) -> Tenant:
    return system.registry.create_tenant(random_slug(), "Test Detachering B.V.")


@pytest.fixture
def other_tenant(system: System) -> Tenant:
    return system.registry.create_tenant(random_slug("other"), "Andere Detachering B.V.")


@pytest.fixture
def agency() -> Actor:
    return Actor(user_id=uuid.uuid4(), role="agency", organisation="test-agency")


DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    """The production broker. CI always has RabbitMQ: there an unreachable broker
    fails the test. On a developer's fresh machine (no RabbitMQ) the tests that
    need it are skipped, loudly, and the embedded PostgreSQL broker is still tested."""
    import socket
    from urllib.parse import urlsplit

    url = os.environ.get("RABBITMQ_URL") or DEFAULT_RABBITMQ_URL
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as e:
        reason = f"RabbitMQ unreachable at {host}:{port} ({e})"
        if os.environ.get("CI") or os.environ.get("SROI_REQUIRE_RABBITMQ") == "1":
            pytest.fail(f"{reason}: CI requires the production broker")
        print(f"SKIPPING RabbitMQ tests: {reason}")
        pytest.skip(f"{reason} (not CI)")
    return url

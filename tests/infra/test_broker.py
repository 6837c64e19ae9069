"""infra.broker against real services: PostgreSQL and RabbitMQ, no mocks.

PostgreSQL: DATABASE_URL, else the local server (see the `database_url` fixture).
RabbitMQ: amqp://guest:guest@127.0.0.1:5672/ (RABBITMQ_URL overrides). An unreachable
RabbitMQ: unreachable fails the RabbitMQ tests under CI (CI=true), and skips them loudly elsewhere.
Queue and actor names are random, so runs in parallel do not see each other's messages.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import dramatiq
import dramatiq.broker
import psycopg
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from infra.broker import (
    PG_SCHEMA,
    broker_ready,
    ensure_broker_schema,
    install_broker,
    make_broker,
)

pytestmark = pytest.mark.timeout(60)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A port nothing listens on, for "server down" cases.
DEAD_PORT = 1


def _names() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:12]
    return f"test_q_{suffix}", f"test_actor_{suffix}"


def _run_one_message(broker: dramatiq.Broker, queue_name: str, actor_name: str) -> None:
    """Declare an actor, send it a message and wait for a real Worker to run it."""
    received: list[tuple[int, str]] = []
    done = threading.Event()

    @dramatiq.actor(broker=broker, queue_name=queue_name, actor_name=actor_name, max_retries=0)
    def record(number: int, text: str) -> None:
        received.append((number, text))
        done.set()

    worker = Worker(broker, worker_timeout=100, worker_threads=1)
    worker.start()
    try:
        record.send(42, "héllo")
        assert done.wait(15), "the worker did not process the message within 15 s"
    finally:
        worker.stop(timeout=10_000)
    assert received == [(42, "héllo")]


# --- URL handling -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["redis://x", "sqs://queue", "localhost:5672", "http://x/"])
def test_unsupported_broker_url_raises_naming_broker_url(url, database_url):
    with pytest.raises(ValueError, match="BROKER_URL"):
        make_broker(url, database_url)


def test_unset_broker_url_needs_a_postgres_database_url():
    with pytest.raises(ValueError, match="BROKER_URL"):
        make_broker(None, None)
    with pytest.raises(ValueError, match="postgresql://"):
        make_broker("", "mysql://x/y")


def test_scheme_chooses_the_broker_without_connecting(database_url):
    from dramatiq.brokers.rabbitmq import RabbitmqBroker
    from dramatiq_postgres import PostgresBroker

    # Nothing listens on DEAD_PORT: building must not connect.
    rabbit = make_broker(f"amqp://guest:guest@127.0.0.1:{DEAD_PORT}/", database_url)
    assert isinstance(rabbit, RabbitmqBroker)
    assert not rabbit.connections
    rabbit.close()

    assert isinstance(make_broker("stub://", database_url), StubBroker)

    dead_pg = f"postgresql://postgres@127.0.0.1:{DEAD_PORT}/postgres"
    for broker_url, db_url in [(None, dead_pg), ("", dead_pg), (dead_pg, database_url),
                               (dead_pg.replace("postgresql://", "postgres://"), database_url)]:
        broker = make_broker(broker_url, db_url)
        try:
            assert isinstance(broker, PostgresBroker)
            assert broker.pool.get_stats().get("pool_size", 0) == 0
        finally:
            broker.close()


def test_import_neither_connects_nor_sets_the_global_broker():
    code = (
        "import dramatiq.broker, infra.broker;"
        "assert dramatiq.broker.global_broker is None, dramatiq.broker.global_broker"
    )
    env = {**os.environ, "BROKER_URL": "amqp://guest:guest@127.0.0.1:1/",
           "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres"}
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, check=True, timeout=30)


def test_install_broker_sets_the_global_broker():
    previous = dramatiq.broker.global_broker
    broker = make_broker("stub://", None)
    try:
        install_broker(broker)
        assert dramatiq.get_broker() is broker
    finally:
        dramatiq.broker.global_broker = previous
        broker.close()


def test_stub_broker_is_always_ready():
    assert broker_ready(StubBroker())


# --- PostgreSQL -----------------------------------------------------------------------------


def test_ensure_broker_schema_is_idempotent_across_concurrent_processes(database_url):
    schema = f"test_broker_{uuid.uuid4().hex[:12]}"
    code = (
        "import sys; from infra.broker import ensure_broker_schema;"
        "print(ensure_broker_schema(None, sys.argv[1], schema=sys.argv[2]))"
    )
    try:
        procs = [
            subprocess.Popen([sys.executable, "-c", code, database_url, schema],
                             cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 0, err
            outputs.append(out.strip())
        assert sorted(outputs) == ["False", "False", "True"]
        # And again, as at every startup.
        assert ensure_broker_schema(None, database_url, schema=schema) is False
        with psycopg.connect(database_url) as conn:
            tables = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,))}
        assert {"queue", "worker", "result"} <= tables
    finally:
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_ensure_broker_schema_is_a_no_op_for_other_brokers(database_url):
    assert ensure_broker_schema("amqp://guest:guest@127.0.0.1:1/", database_url) is False
    assert ensure_broker_schema("stub://", database_url) is False


def test_postgres_broker_stores_and_processes_a_message(database_url):
    ensure_broker_schema(None, database_url)
    ensure_broker_schema(None, database_url)  # every startup calls it
    broker = make_broker(None, database_url)
    queue_name, actor_name = _names()
    try:
        assert broker_ready(broker)

        # A message sent with no worker running waits as a row of dramatiq.queue ...
        @dramatiq.actor(broker=broker, queue_name=queue_name, actor_name=actor_name + "_probe")
        def probe() -> None:
            pass

        message = probe.send()
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                sql.SQL("SELECT state::text, message->>'actor_name' FROM {}.queue "
                        "WHERE message_id = %s").format(sql.Identifier(PG_SCHEMA)),
                (message.message_id,),
            ).fetchone()
        assert row == ("queued", actor_name + "_probe")

        # ... and a real worker runs the messages of the queue, then deletes them (ack).
        _run_one_message(broker, queue_name, actor_name)
        with psycopg.connect(database_url) as conn:
            left = conn.execute(
                sql.SQL("SELECT count(*) FROM {}.queue WHERE queue_name = %s").format(
                    sql.Identifier(PG_SCHEMA)),
                (queue_name,),
            ).fetchone()[0]
        assert left == 0
    finally:
        broker.close()


def test_postgres_broker_accepts_a_socket_style_url(database_url):
    # The embedded server's URL names its host in the query string
    # (postgresql://postgres:@/postgres?host=/socket/dir); the same form over TCP here.
    info = conninfo_to_dict(database_url)
    query = {k: info[k] for k in ("host", "port") if info.get(k)}
    auth = info.get("user", "postgres") + (f":{info['password']}" if info.get("password") else "")
    url = f"postgresql://{auth}@/{info.get('dbname', 'postgres')}?{urlencode(query)}"
    ensure_broker_schema(None, url)
    broker = make_broker(None, url)
    try:
        assert broker_ready(broker)
    finally:
        broker.close()


@pytest.mark.parametrize("kind", ["postgres", "rabbitmq"])
def test_a_broker_whose_server_is_down_is_not_ready_within_seconds(kind, database_url):
    if kind == "postgres":  # the embedded broker's database is down
        broker = make_broker(None, f"postgresql://postgres@127.0.0.1:{DEAD_PORT}/postgres")
    else:
        broker = make_broker(f"amqp://guest:guest@127.0.0.1:{DEAD_PORT}/", database_url)
    try:
        started = time.monotonic()
        assert broker_ready(broker, timeout=1) is False
        assert time.monotonic() - started < 5
    finally:
        broker.close()


def test_postgres_broker_not_ready_without_its_schema(database_url):
    # A fresh database where the broker schema was never created.
    dbname = f"test_broker_{uuid.uuid4().hex[:12]}"
    empty_url = urlunsplit(urlsplit(database_url)._replace(path="/" + dbname))
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    broker = make_broker(None, empty_url)
    try:
        assert broker_ready(broker) is False
        assert ensure_broker_schema(None, empty_url) is True
        assert broker_ready(broker) is True
    finally:
        broker.close()
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


# --- RabbitMQ -------------------------------------------------------------------------------


def test_rabbitmq_broker_processes_a_message(rabbitmq_url, database_url):
    import pika

    broker = make_broker(rabbitmq_url, database_url)
    queue_name, actor_name = _names()
    try:
        assert broker_ready(broker)
        _run_one_message(broker, queue_name, actor_name)
    finally:
        broker.close()
        # The broker declares durable queues: remove them so runs leave nothing behind.
        conn = pika.BlockingConnection(pika.URLParameters(rabbitmq_url))
        try:
            channel = conn.channel()
            for name in (queue_name, f"{queue_name}.DQ", f"{queue_name}.XQ"):
                channel.queue_delete(name)
        finally:
            conn.close()

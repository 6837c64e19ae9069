"""Duties tests use the read-side helpers of tests/projections (real ledger,
real projection runner, real asyncpg queries), and a real SMTP server
(aiosmtpd on localhost) to receive the reminders mailed."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from infra import processes
from tests.projections.conftest import books, client, new_books, pool, spawn  # noqa: F401  (fixtures)


class Inbox:
    """An aiosmtpd handler keeping what arrives (the server itself is real)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on a free port: its inbox and the port."""
    inbox, port = Inbox(), processes.free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

"""A body over the limit is refused with a 413 that ordinary clients can read.

Python's urllib and httpx send the whole body before they read the answer
(only curl waits for `Expect: 100-continue`); the server used to close the
connection on the unread rest, and they saw "connection reset by peer". This
runs the real server (`sroi serve`, uvicorn) in its own process, since the
reset happens in the kernel, below anything an in-process client sees.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pytest

from infra.bootstrap import System
from tests.web.conftest import web_process

FIVE_MB = b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}'


@pytest.fixture(scope="module")
def server_url(database_url: str, system: System, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with web_process(database_url, tmp_path_factory.mktemp("big-body") / "web.log") as server:
        yield server.url


def assert_too_large(status: int, body: bytes) -> None:
    assert status == 413
    answer = json.loads(body)
    assert answer["detail"] == "the request body is too large"
    assert answer["errors"][0]["field"] == "body"


@pytest.mark.parametrize("path", ["/api/v1/employers", "/api/v1/placements", "/login"])
def test_urllib_sending_five_megabytes_reads_the_413(server_url: str, path: str) -> None:
    request = urllib.request.Request(server_url + path, data=FIVE_MB, headers={"Content-Type": "application/json"})
    assert "Expect" not in request.headers
    with pytest.raises(urllib.error.HTTPError) as refused:  # an answer, not a URLError (connection reset)
        urllib.request.urlopen(request, timeout=30)
    if path.startswith("/api/"):
        assert_too_large(refused.value.code, refused.value.read())
    else:  # the login form refuses it before reading it (no CSRF token): an answer all the same
        assert refused.value.code in (403, 413)


def test_httpx_sending_five_megabytes_reads_the_413(server_url: str) -> None:
    r = httpx.post(server_url + "/api/v1/employers", content=FIVE_MB,
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert "expect" not in r.request.headers
    assert_too_large(r.status_code, r.content)


def test_a_chunked_body_without_a_length_reads_the_413_too(server_url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for i in range(0, len(FIVE_MB), 64 * 1024):
            yield FIVE_MB[i:i + 64 * 1024]

    r = httpx.post(server_url + "/api/v1/employers", content=chunks(),
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert_too_large(r.status_code, r.content)


def test_a_request_after_a_refused_one_on_the_same_connection_is_answered(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=30) as client:
        assert client.post("/api/v1/employers", content=FIVE_MB,
                           headers={"Content-Type": "application/json"}).status_code == 413
        assert client.get("/health").status_code == 200

"""Child processes: stopping them (ask each to stop with SIGTERM, so it closes
its connections and finishes its work in hand; wait a while; then kill any
still running), a free port for a server about to start, and waiting until a
started web server answers. Used by `sroi run` for its worker, and by the
tests and benchmarks for the servers and workers they start."""
from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path


def stop(procs: Iterable[subprocess.Popen], timeout: float = 15.0) -> None:
    """Stop every process of `procs` (all asked at once, so they stop in
    parallel) and reap them; one that has not exited `timeout` seconds after
    being asked is killed."""
    procs = list(procs)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def free_port() -> int:
    """A TCP port on localhost that nothing listens on now (for a server
    about to be started)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, procs: Iterable[subprocess.Popen], timeout: float = 60.0,
                       log: Path | str | None = None) -> None:
    """Return once `url`/health answers 200. RuntimeError (with the end of
    `log`, the server's output, if given) when one of `procs` exits first or
    `timeout` seconds pass."""
    procs = list(procs)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            tail = Path(log).read_text(errors="replace")[-3000:] if log else ""
            raise RuntimeError(f"the web server at {url} did not start" + (f":\n{tail}" if tail else ""))
        time.sleep(0.2)

"""Child processes: stopping them (ask each to stop with SIGTERM, so it closes
its connections and finishes its work in hand; wait a while; then kill any
still running) and a free port for a server about to start. Used by `sroi run`
for its worker, and by the tests and benchmarks for the servers and workers
they start."""
from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterable


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

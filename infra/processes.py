"""Stopping child processes: ask each to stop (SIGTERM, so it closes its
connections and finishes its work in hand), wait a while, then kill any still
running. Used by `sroi run` for its worker, and by the tests and benchmarks for
the servers and workers they start."""
from __future__ import annotations

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

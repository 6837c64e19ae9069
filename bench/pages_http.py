"""bench/pages.py, the HTTP load driver: the real server as a subprocess
(`python -m infra.cli serve`, SERVER_TIMING=1), one keep-alive connection
with a cookie jar, one request at a time, each series measured (server time
from Server-Timing, client-side latency, server CPU from /proc)."""
from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from bench.common import note, proc_cpu_s, say
from bench.http_client import RawHttpConnection
from bench.pages_series import Reply, Series, log_in, make_series, report, server_timing, split_content_type
from bench.pages_world import Setup
from infra import processes

ROOT = Path(__file__).resolve().parent.parent


class PageConnection(RawHttpConnection):
    """bench.http_client's connection, plus what pages need: a cookie jar,
    response headers (Set-Cookie, Location), form bodies, chunked bodies."""

    def __init__(self, host: str, port: int):
        super().__init__(host, port)
        self.cookies: dict[str, str] = {}

    async def send(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
                   content_type: str | None = None) -> Reply:
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        t0 = time.perf_counter()
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        parsed: dict[str, list[str]] = {}
        for line in head[:-4].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            parsed.setdefault(name.strip().lower().decode(), []).append(value.strip().decode("latin-1"))
        if "chunked" in (parsed.get("transfer-encoding") or [""])[0].lower():
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(chunks)
        else:
            length = int((parsed.get("content-length") or ["0"])[0])
            payload = await self.reader.readexactly(length) if length else b""
        seconds = time.perf_counter() - t0
        for cookie in parsed.get("set-cookie", []):
            pair = cookie.split(";", 1)[0]
            name, _, value = pair.partition("=")
            attrs = cookie.lower()
            if value in ("", "null") or "max-age=0" in attrs.replace(" ", ""):
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        return Reply(status, parsed, payload, seconds)


WARNING_LINK_RE = re.compile(r'<li>\s*<a href="/placements/[^"]+">(.*?)</a>', re.S)


def dashboard_warnings(html: str) -> tuple[int, int]:
    """(early warnings listed, of which without a candidate name) on the dashboard."""
    start = html.find('class="warnings"')
    if start < 0:
        return 0, 0
    section = html[start:html.find("</ul>", start)]
    links = WARNING_LINK_RE.findall(section)
    return len(links), sum(1 for text in links if "·" not in text)


async def run_series(conn: PageConnection, series: Series, n: int, warmup: int, pid: int | None) -> None:
    async def one(i: int, record: bool) -> None:
        method, path, body, headers = series.request(i)
        headers, ctype = split_content_type(headers)
        reply = await conn.send(method, path, body, headers, ctype)
        ok = reply.status == series.expect and (series.check is None or series.check in reply.text)
        if not ok:
            series.errors += 1
            if series.errors <= 3:
                say(f"    error {series.key}: {method} {path} -> {reply.status} "
                    f"{reply.headers.get('location')} {reply.text[:300]!r}")
        if record:
            series.latencies.append(reply.seconds)
            for name, ms in server_timing(reply.header("server-timing")).items():
                series.server.setdefault(name, []).append(ms)
            series.bytes.append(len(reply.body))

    for i in range(warmup):
        await one(i, False)
    cpu0 = proc_cpu_s(pid) if pid else float("nan")
    for i in range(n):
        await one(warmup + i, True)
    if pid:
        series.cpu_ms = (proc_cpu_s(pid) - cpu0) * 1000 / n


def measure_http(s: Setup, n: int, warmup: int) -> list[Series]:
    port = processes.free_port()
    env = {**os.environ, "DATABASE_URL": s.system.database_url, "SECRET_KEY": "bench", "SERVER_TIMING": "1"}
    log_path = "/tmp/bench-pages-serve.log"
    proc = subprocess.Popen([sys.executable, "-m", "infra.cli", "serve", "--port", str(port)], env=env,
                            cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=open(log_path, "w"))
    try:
        processes.wait_until_serving(f"http://127.0.0.1:{port}", [proc], log=log_path)

        async def main() -> list[Series]:
            conn = PageConnection("127.0.0.1", port)
            await conn.connect()
            try:
                csrf = {"token": await log_in(conn)}
                dash = await conn.send("GET", "/")
                listed, unnamed = dashboard_warnings(dash.text)
                say(f"dashboard check: {listed} early warnings listed, {unnamed} of them without the candidate's "
                    "name (their placement is not among those the handler looked up)")
                all_series = make_series(s, csrf)
                for series in all_series:
                    note(f"  measuring {series.key} ...")
                    await run_series(conn, series, n, warmup, proc.pid)
                    report(series)
                return all_series
            finally:
                await conn.close()

        say(f"server: `python -m infra.cli serve` (uvicorn, uvloop/httptools), pid {proc.pid}; one keep-alive "
            "connection, one request at a time, logged in as the agency user through the login form")
        say("server time from each response's Server-Timing header, client-side latency on localhost beside it "
            f"(warm-up {warmup} requests per series)")
        return asyncio.run(main())
    finally:
        processes.stop([proc])

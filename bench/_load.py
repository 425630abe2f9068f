"""HTTP load over loopback for bench/pages.py: wrk when installed, else a small asyncio client.

Both keep ``connections`` keep-alive connections busy for ``seconds`` and report requests/s,
p50/p99 latency and how many responses were not 200. A redirect counts as a wrong answer (wrk
itself only reports statuses >= 400, so its Lua script counts every status but 200).

wrk is a Debian package: ``apt-get install -y wrk``. The asyncio client runs in the same
interpreter family as the server and takes a CPU share wrk would not: its figures are lower, and
the JSON says which tool produced them.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

WRK_INSTALL_HINT = "wrk is not installed: apt-get install -y wrk (Debian/Ubuntu) for exact figures"

# Counts responses other than 200 per wrk thread, then prints one JSON line after the run.
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not_ok = 0 end
function response(status, headers, body)
  if status ~= 200 then not_ok = not_ok + 1 end
end
function done(summary, latency, requests)
  local not_ok = 0
  for _, thread in ipairs(threads) do not_ok = not_ok + thread:get("not_ok") end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"not_ok": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    not_ok, errors.connect + errors.read + errors.write + errors.timeout))
end
"""


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    not_ok: int  # responses other than 200, plus socket errors and timeouts

    def figures(self) -> dict[str, float | int]:
        return {
            "requests": self.requests,
            "requests_per_s": round(self.requests / max(self.seconds, 1e-9), 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "not_ok": self.not_ok,
        }


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str, headers: dict[str, str], connections: int, seconds: int, script_path: str
) -> LoadResult:
    """Drive ``url`` with wrk (one thread: the server under test keeps the other cores)."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError(WRK_INSTALL_HINT)
    with open(script_path, "w", encoding="utf-8") as script:
        script.write(WRK_SCRIPT)
    command = [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", script_path, "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*command, url], capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            data = json.loads(line.removeprefix("WRK_RESULT "))
            return LoadResult(
                requests=data["requests"],
                seconds=data["duration_us"] / 1e6,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                not_ok=data["not_ok"] + data["socket_errors"],
            )
    raise RuntimeError(f"wrk gave no result (exit {completed.returncode}): {completed.stderr}")


def run_python(url: str, headers: dict[str, str], connections: int, seconds: int) -> LoadResult:
    """The fallback: ``connections`` asyncio keep-alive clients for ``seconds``."""
    return asyncio.run(_python_load(url, headers, connections, seconds))


async def _python_load(
    url: str, headers: dict[str, str], connections: int, seconds: int
) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [f"GET {parts.path or '/'} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    latencies: list[float] = []
    not_ok = [0]
    started = time.perf_counter()
    deadline = started + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                writer.write(request)
                status, keep_alive = await _read_response(reader)
                latencies.append(time.perf_counter() - sent)
                if status != 200:
                    not_ok[0] += 1
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.wait_for(
        asyncio.gather(*(client() for _ in range(connections))), timeout=seconds + 30
    )
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]

    def percentile(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000

    return LoadResult(len(latencies), elapsed, percentile(0.5), percentile(0.99), not_ok[0])


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the connection stays open."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    fields = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip().lower()
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                break
    else:
        await reader.read()  # delimited by the server closing the connection
        return status, False
    return status, fields.get("connection") != "close"

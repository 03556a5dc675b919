"""Load tests: start a real server as a subprocess, drive it with wrk, parse what wrk says.

Load only ever goes to 127.0.0.1 and every run is bounded in time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_DURATION = re.compile(r"([\d.]+)(us|ms|s|m)\b")


@dataclass(frozen=True, slots=True)
class WrkResult:
    url: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors plus non-2xx/3xx responses

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "url": self.url,
            "req_per_s": round(self.requests_per_s, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "requests": self.requests,
            "errors": self.errors,
        }


def wrk_path() -> str | None:
    """The wrk binary, or None (Debian: `apt-get install -y wrk`)."""
    return shutil.which("wrk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ms(text: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(url: str, output: str) -> WrkResult:
    """Requests/s, p50 and p99 from `wrk --latency` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_ok = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors += int(non_ok.group(1)) if non_ok else 0
    return WrkResult(
        url, float(rps.group(1)), _ms(p50.group(1)), _ms(p99.group(1)), int(total.group(1)), errors
    )


def run_wrk(
    url: str,
    seconds: int,
    connections: int = 64,
    threads: int = 2,
    headers: Sequence[str] = (),
) -> WrkResult:
    """One bounded wrk run against a loopback URL; `headers` as "Name: value"."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load goes to 127.0.0.1 only")
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed")
    command = [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(url, done.stdout)


@contextmanager
def running_server(
    command: Sequence[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Start `command` (listening on `port`), wait until it answers, stop it afterwards.

    The server runs in its own session, so stopping it also stops uvicorn's worker processes.
    """
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            list(command),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        try:
            _wait_until_up(base, process, log)
            yield base
        finally:
            _stop(process)


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server did not answer within 120 s; see {log}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

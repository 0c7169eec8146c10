"""Helpers for the HTTP server tests: a running `arrowembed serve` process
(its port read from its own log), plain HTTP with http.client, and readers
for its JSON log lines and Prometheus metrics."""
from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

STARTUP_TIMEOUT_S = 60


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def wait_until(condition: Callable[[], object], timeout: float = 10.0, interval: float = 0.01, what: str = "condition"):
    """Polls until condition() is truthy and returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def request(port: int, method: str, path: str, body: bytes | str | dict | list | None = None,
            headers: dict[str, str] | None = None, timeout: float = 120,
            conn: http.client.HTTPConnection | None = None) -> Response:
    """One HTTP request. dict/list bodies are sent as JSON with Content-Type
    application/json; bytes and str bodies as they are. With `conn`, the
    (keep-alive) connection is reused and left open."""
    hdrs = dict(headers or {})
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        body = body.encode()
    own = conn is None
    if own:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        if own:
            conn.close()


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text exposition -> {(name, frozenset of (label, value)): value}."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        assert m, f"not a metrics sample line: {line!r}"
        labels = frozenset(label_re.findall(m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


@dataclass
class Server:
    """An `arrowembed serve --port 0` process; stderr (its JSON log) goes to a file."""
    cli: Path
    model: Path
    args: tuple = ()
    log_path: Path = None
    env: dict | None = None
    proc: subprocess.Popen = field(init=False, default=None)
    port: int = field(init=False, default=0)

    def start(self, wait_ready: bool = True) -> "Server":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(self.cli), "serve", "-m", str(self.model), "--port", "0", *map(str, self.args)],
                                     stdout=subprocess.DEVNULL, stderr=self._log, env=self.env)
        listening = self.wait_for_log(lambda e: e.get("msg") == "listening", timeout=STARTUP_TIMEOUT_S)
        self.port = int(listening["port"])
        if wait_ready:
            self.wait_for_log(lambda e: e.get("msg") == "model loaded", timeout=STARTUP_TIMEOUT_S)
        return self

    # --- the log -----------------------------------------------------------
    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_entries(self) -> list[dict]:
        """Every complete log line, parsed (a line that is not JSON fails the test)."""
        text = self.log_text()
        lines = text.split("\n")[:-1]  # the last piece is an unfinished line (or empty)
        entries = []
        for line in lines:
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise AssertionError(f"log line is not JSON ({e}): {line!r}")
        return entries

    def wait_for_log(self, predicate: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        def found():
            for entry in self.log_entries():
                if predicate(entry):
                    return entry
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited ({self.proc.returncode}) before the expected log line:\n"
                                     f"{self.log_text()}")
            return None
        deadline = time.monotonic() + timeout
        while True:
            entry = found()
            if entry is not None:
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for a log line; log so far:\n{self.log_text()}")
            time.sleep(0.01)

    def request_log(self, request_id: str, timeout: float = 10.0) -> dict:
        """The 'request' log line of one request (written just after its response)."""
        return self.wait_for_log(lambda e: e.get("msg") == "request" and e.get("request_id") == request_id, timeout)

    # --- HTTP --------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body=None, headers=None, **kw) -> Response:
        return request(self.port, method, path, body, headers, **kw)

    def get(self, path: str, headers=None, **kw) -> Response:
        return self.request("GET", path, None, headers, **kw)

    def post(self, path: str, body, headers=None, **kw) -> Response:
        return self.request("POST", path, body, headers, **kw)

    def post_ok(self, path: str, body, headers=None, **kw):
        """POST that must answer 200; returns the parsed JSON."""
        r = self.post(path, body, headers, **kw)
        assert r.status == 200, f"POST {path} -> {r.status}: {r.body[:500]!r}"
        return r.json()

    def metrics(self) -> dict[tuple[str, frozenset], float]:
        r = self.get("/metrics")
        assert r.status == 200
        return parse_metrics(r.body.decode())

    # --- stopping ----------------------------------------------------------
    def terminate(self, timeout: float = 60) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if getattr(self, "_log", None) is not None:
            self._log.close()


def metric(metrics: dict, name: str, **labels) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return metrics.get((name, frozenset(labels.items())), 0.0)


def serve_until_exit(cli, *args, timeout: float = 10) -> subprocess.CompletedProcess:
    """Runs `arrowembed serve ARGS` that is expected to fail; fails the test if it keeps running."""
    proc = subprocess.Popen([str(cli), "serve", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
        raise AssertionError(f"`arrowembed serve {' '.join(map(str, args))}` was still running after {timeout} s; "
                             f"its log:\n{stderr}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, None, stderr)

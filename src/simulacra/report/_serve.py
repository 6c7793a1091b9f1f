"""The local viewer: the report page served on 127.0.0.1, refreshed while a run goes on.

Three routes, all ``GET``:

- ``/`` the report page, with its data embedded as in a report file;
- ``/api/status`` ``{"version", "episodes", "mtime", "next_ms"}``, cheap (a ``stat``
  per file; episodes are recounted only when something changed): ``version`` changes
  whenever a watched file of a run directory does;
- ``/api/data`` ``{"data", "chunks"}``, the payload the page re-renders from.

The page polls ``/api/status`` and fetches ``/api/data`` when the version moves. Only
requests whose ``Host`` is the server's own loopback address are answered, so another
site cannot read a run through a rebound DNS name.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from simulacra.report._load import check_run_dir, count_episodes, load_run, signature
from simulacra.report._payload import Payload, ReportOptions, build_payload
from simulacra.report._safe import to_json, utf8

DEFAULT_INTERVAL_MS = 1500


@dataclass(kw_only=True)
class Snapshot:
    version: str
    payload: Payload
    data: bytes
    page: bytes | None = None  # rendered when the page is asked for, once per version


class LiveRuns:
    """One or two run directories, rebuilt into a page whenever their files change."""

    def __init__(
        self,
        run_dirs: Sequence[str | Path],
        *,
        options: ReportOptions | None = None,
        interval_ms: int = DEFAULT_INTERVAL_MS,
    ) -> None:
        self.run_dirs = [check_run_dir(d) for d in run_dirs]
        self.options = options or ReportOptions()
        self.interval_ms = interval_ms
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._counted: tuple[str, int] = ("", 0)
        self._build_s = 0.0

    def _signatures(self) -> list[tuple[tuple[str, int, int], ...]]:
        return [signature(d) for d in self.run_dirs]

    @staticmethod
    def _version_of(signatures: list[tuple[tuple[str, int, int], ...]]) -> str:
        return hashlib.sha256(repr(signatures).encode("utf-8")).hexdigest()[:16]

    def version(self) -> str:
        """A short hash of the watched files' names, sizes and modification times."""
        return self._version_of(self._signatures())

    def status(self) -> dict[str, Any]:
        """The version, the number of episodes, the latest modification time (seconds)
        and how long the page should wait before asking again: longer for runs whose
        page takes long to rebuild, so that a big run in progress is not rebuilt
        back to back. Episodes are counted again only when the version moves."""
        signatures = self._signatures()
        version = self._version_of(signatures)
        if self._counted[0] != version:
            self._counted = (version, sum(count_episodes(d) for d in self.run_dirs))
        mtimes = [mtime for files in signatures for _, mtime, _ in files]
        return {
            "version": version,
            "episodes": self._counted[1],
            "mtime": max(mtimes) / 1e9 if mtimes else None,
            "next_ms": max(self.interval_ms, round(3000 * self._build_s)),
        }

    def snapshot(self) -> Snapshot:
        """The data for the files as they are now (rebuilt only on change)."""
        with self._lock:
            version = self.version()
            if self._snapshot is not None and self._snapshot.version == version:
                return self._snapshot
            started = time.perf_counter()
            runs = [load_run(d) for d in self.run_dirs]
            payload = build_payload(runs, live=True, options=self.options)
            payload.data["live"] = {"interval_ms": self.interval_ms}
            payload.data["version"] = version
            data = utf8(to_json({"data": payload.data, "chunks": payload.chunks}))
            self._snapshot = Snapshot(version=version, payload=payload, data=data)
            self._build_s = time.perf_counter() - started
            return self._snapshot

    def page(self) -> bytes:
        """The report page for the files as they are now."""
        from simulacra.report._html import render_html

        snapshot = self.snapshot()
        with self._lock:
            if snapshot.page is None:
                snapshot.page = utf8(render_html(snapshot.payload))
            return snapshot.page


class _Handler(BaseHTTPRequestHandler):
    server: ReportServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if not self.server.host_allowed(self.headers.get("Host", "")):
            self._send(HTTPStatus.FORBIDDEN, b"forbidden\n", "text/plain; charset=utf-8")
            return
        path = self.path.split("?", 1)[0]
        live = self.server.live
        try:
            if path in ("/", "/index.html"):
                self._send(HTTPStatus.OK, live.page(), "text/html; charset=utf-8", page=True)
            elif path == "/api/status":
                body = utf8(json.dumps(live.status()))
                self._send(HTTPStatus.OK, body, "application/json")
            elif path == "/api/data":
                self._send(HTTPStatus.OK, live.snapshot().data, "application/json")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8")
        except Exception as exc:  # the viewer must keep serving if a file is mid-write
            message = utf8(f"cannot read the run: {type(exc).__name__}: {exc!s}\n")
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, message, "text/plain; charset=utf-8")

    def _send(
        self, status: HTTPStatus, body: bytes, content_type: str, *, page: bool = False
    ) -> None:
        from simulacra.report._html import page_policy

        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if page:
            self.send_header("Content-Security-Policy", page_policy())
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged (the page polls every second or two)."""


class ReportServer(ThreadingHTTPServer):
    """An HTTP server for :class:`LiveRuns` on a loopback address."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, live: LiveRuns, *, host: str = "127.0.0.1", port: int = 0) -> None:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            # runs hold conversations and configs: they are never served to the network
            raise ValueError(f"the viewer serves on a loopback address only, not {host!r}")
        self.live = live
        self.host = host
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes a connection early is not an error worth a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError):
            return
        super().handle_error(request, client_address)

    def host_allowed(self, host: str) -> bool:
        names = {self.host, "localhost", "127.0.0.1", "[::1]"}
        return host in {f"{name}:{self.port}" for name in names} | names


def serve(
    run_dirs: Sequence[str | Path],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    options: ReportOptions | None = None,
    interval_ms: int = DEFAULT_INTERVAL_MS,
) -> ReportServer:
    """A started viewer server (in a daemon thread); call ``shutdown()`` to stop it."""
    server = ReportServer(
        LiveRuns(run_dirs, options=options, interval_ms=interval_ms), host=host, port=port
    )
    threading.Thread(target=server.serve_forever, name="simulacra-view", daemon=True).start()
    return server

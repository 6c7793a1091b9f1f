"""The live viewer: its HTTP routes, and a page that follows a run in progress."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Runs, Watch, episode, persona, task
from simulacra.report import LiveRuns, ReportServer, serve


@pytest.fixture
def server(runs: Runs) -> Iterator[ReportServer]:
    viewer = serve([runs.minimal()], interval_ms=300)
    try:
        yield viewer
    finally:
        viewer.shutdown()
        viewer.server_close()


def get(url: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def append_episode(path: Path, repeat: int) -> None:
    line = episode(path.name, persona("late", "Late"), task("flour"), repeat, success=True)
    with (path / "episodes.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")


def test_routes(server: ReportServer) -> None:
    status, headers, body = get(server.url)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    html = body.decode("utf-8")
    assert '"live":{"interval_ms":300}' in html
    status, _, body = get(server.url + "api/status")
    info = json.loads(body)
    assert (
        status == 200 and info["episodes"] == 2 and re.fullmatch(r"[0-9a-f]{16}", info["version"])
    )
    status, _, body = get(server.url + "api/data")
    data = json.loads(body)
    assert status == 200 and data["data"]["version"] == info["version"]
    assert len(data["data"]["runs"][0]["rows"]) == 2 and len(data["chunks"]["a"]) == 1
    assert get(server.url + "nothing")[0] == 404
    assert get(server.url + "api/status", host="attacker.example")[0] == 403
    assert get(server.url + "api/status", host=f"localhost:{server.port}")[0] == 200


def test_status_and_data_follow_the_files(server: ReportServer) -> None:
    live = server.live
    path = live.run_dirs[0]
    before = live.status()
    first = live.snapshot()
    assert live.snapshot() is first  # unchanged files: no rebuild
    append_episode(path, 0)
    after = live.status()
    assert after["episodes"] == 3 and after["version"] != before["version"]
    second = live.snapshot()
    assert second is not first and second.version == after["version"]
    assert len(json.loads(second.data)["data"]["runs"][0]["rows"]) == 3


def test_a_file_being_rewritten_does_not_stop_the_server(server: ReportServer) -> None:
    path = server.live.run_dirs[0]
    (path / "episodes.jsonl").write_text('{"id": "torn", "persona": ')
    status, _, body = get(server.url + "api/data")
    assert status == 200 and json.loads(body)["data"]["runs"][0]["rows"] == []


def test_live_runs_need_run_directories(tmp_path: Path) -> None:
    from simulacra.errors import RunError

    with pytest.raises(RunError):
        LiveRuns([tmp_path])


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.browser
def test_the_page_follows_a_run_in_progress(
    runs: Runs, strict_page: Any, watch: Watch, artifacts: Path
) -> None:
    page = strict_page
    path = runs.minimal()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from simulacra.cli import main; main()",
            "view",
            str(path),
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        found = re.search(r"http://127\.0\.0\.1:\d+/", process.stderr.readline())
        assert found, "the viewer did not say where it serves"
        url = found.group(0)
        page.goto(url)
        page.wait_for_selector("html[data-ready]")
        value = page.locator("[data-card='episodes'] [data-value]")
        assert value.inner_text() == "2"
        assert "live" in page.locator("#live-status").inner_text()
        append_episode(path, 0)
        wait_until(lambda: value.inner_text() == "3")
        status = json.loads(urllib.request.urlopen(url + "api/status", timeout=10).read())
        assert status["episodes"] == 3
        # the episode list refreshes in place, keeping its filters
        page.click("nav.tabs button[data-tab='episodes']")
        page.select_option("[data-filter='persona']", "late")
        rows = page.locator("table[data-list] tbody tr[data-index]")
        assert rows.count() == 1
        append_episode(path, 1)
        wait_until(lambda: rows.count() == 2)
        assert page.locator("[data-count='episodes']").inner_text() == "4"
        assert page.locator("[data-filter='persona']").input_value() == "late"
        page.screenshot(path=str(artifacts / "report-live.png"))
        assert all(request.startswith(url) for request in watch.requests)
        assert watch.errors == [] and watch.dialogs == []
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert process.returncode == 0, err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.com"])
def test_the_viewer_refuses_a_non_loopback_address(runs: Runs, host: str) -> None:
    with pytest.raises(ValueError, match="loopback address only"):
        ReportServer(LiveRuns([runs.minimal()]), host=host)

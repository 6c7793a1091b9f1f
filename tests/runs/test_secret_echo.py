"""An endpoint that echoes the request's credentials in its error bodies, as gateways do:
no file of the run directory and no report built from it shows them."""

from __future__ import annotations

import itertools
import json
import secrets
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.responses import JSONResponse, PlainTextResponse, Response

import simulacra
from scripted_http import ScriptedServer
from simulacra import _secrets
from simulacra.report import ReportOptions, build_report
from simulacra.runs import parse_config, read_episodes

KEY = "sk-echo-" + secrets.token_hex(12)
HEADER_KEY = "hk-" + secrets.token_hex(10)
BODY_KEY = "bk-" + secrets.token_hex(10)
SECRETS = (KEY, HEADER_KEY, BODY_KEY)
SHOWN = "\\u003credacted\\u003e"  # <redacted> as the report's page writes it


_calls = itertools.count()


def echo(body: dict[str, Any], headers: dict[str, str]) -> Response:
    """Reject every call, quoting what the caller sent (alternating JSON and plain text)."""
    quoted = (
        f"denied: authorization={headers.get('authorization')} "
        f"x-api-key={headers.get('x-api-key')} api_key={body.get('api_key')} "
        f"key={headers.get('authorization', '').removeprefix('Bearer ')}"
    )
    if next(_calls) % 2:
        return JSONResponse({"error": {"message": quoted}}, status_code=503)
    return PlainTextResponse(quoted + f" headers={json.dumps(headers)}", status_code=400)


@pytest.fixture
def gateway() -> Any:
    with ScriptedServer(echo) as server:
        yield server


def run_config(tmp_path: Path, base_url: str) -> dict[str, Any]:
    return {
        "name": "echoed",
        "output_dir": str(tmp_path / "runs"),
        "models": {
            "echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"},
            "gw": {
                "backend": "openai",
                "base_url": base_url,
                "model": "m",
                "api_key_env": "GATEWAY_KEY",
                "headers": {"x-api-key": HEADER_KEY},
                "extra_body": {"api_key": BODY_KEY, "reasoning_effort": "low"},
                "max_attempts": 1,
                "cache": False,
            },
        },
        "user": {"model": "echo"},
        "target": {"type": "model", "model": "gw"},
        "personas": {"builtin": ["polite-professional"]},
        "tasks": {"suite": "everyday", "ids": ["pancakes-scale", "bill-split-tip"]},
        "repeats": 2,
    }


def files_holding_secrets(directory: Path) -> list[str]:
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {s[:6]}…" for s in SECRETS if s.encode() in data]
    return found


async def test_echoed_keys_reach_no_file_of_the_run(
    tmp_path: Path, gateway: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", KEY)
    result = await simulacra.arun(parse_config(run_config(tmp_path, gateway.base_url)))
    assert gateway.calls >= 4  # every episode reached the gateway, which echoed the keys
    episodes = read_episodes(result.run_dir)
    assert len(episodes) == 4 and all(e["status"] == "error" for e in episodes)
    assert all("<redacted>" in e["error"] for e in episodes), [e["error"] for e in episodes]
    # both kinds of error body were served: JSON (503) and plain text (400)
    assert {"HTTP 400" in e["error"] for e in episodes} == {True, False}
    saved = json.loads((result.run_dir / "config.json").read_text())["models"]["gw"]
    assert saved["extra_body"] == {"api_key": "<redacted>", "reasoning_effort": "<redacted>"}
    assert saved["headers"] == {"x-api-key": "<redacted>"}
    assert saved["api_key_env"] == "GATEWAY_KEY"  # the variable's name is kept

    html = build_report(result.run_dir, options=ReportOptions(compress=False))
    gzipped = build_report(result.run_dir, output=tmp_path / "gz.html")
    assert SHOWN in html.read_text()
    assert gzipped.is_file()
    assert files_holding_secrets(tmp_path) == []


async def test_report_scrubs_keys_an_older_run_stored(
    tmp_path: Path, gateway: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_KEY", KEY)
    result = await simulacra.arun(parse_config(run_config(tmp_path, gateway.base_url)))
    old = tmp_path / "old-run"
    shutil.copytree(result.run_dir, old)
    # as an older version wrote it: the key verbatim in an episode's error
    lines = (old / "episodes.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["error"] = f"ModelError: HTTP 401: key {KEY} is not valid (sent as {KEY})"
    (old / "episodes.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    _secrets.forget_all()  # a new process: it knows no key until the report reads one
    html = build_report(
        old, output=tmp_path / "report" / "r.html", options=ReportOptions(compress=False)
    )
    text = html.read_text()
    assert f"key {SHOWN} is not valid (sent as {SHOWN})" in text
    assert KEY not in text

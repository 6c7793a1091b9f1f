"""Known secrets never reach a file: scrubbing, and the writers of ``_records``."""

from __future__ import annotations

import json
from pathlib import Path

from simulacra import _secrets
from simulacra._records import KeyedLog, json_bytes, read_jsonl, write_json_atomic
from simulacra._secrets import REDACTED, register, register_named, scrub, scrub_value

KEY = "sk-live-4f9c2b7e8a1d"


def test_registered_values_are_replaced_everywhere_in_a_text() -> None:
    assert scrub(f"bad key {KEY}!") == f"bad key {KEY}!"  # nothing registered yet
    register(KEY)
    assert scrub(f"bad key {KEY}! (again: {KEY})") == f"bad key {REDACTED}! (again: {REDACTED})"
    assert scrub("no key here") == "no key here"


def test_longer_secret_is_replaced_whole_when_one_contains_another() -> None:
    register(KEY)
    register(KEY + "-extended")
    assert scrub(f"[{KEY}-extended]") == f"[{REDACTED}]"


def test_short_values_are_not_registered() -> None:
    register("EMPTY")
    register("x")
    register("")
    register(None)
    assert _secrets.known() == frozenset()
    assert scrub("EMPTY x") == "EMPTY x"


def test_bearer_and_basic_tokens_are_scrubbed_without_registration() -> None:
    assert scrub("Authorization: Bearer abc123def456ghi") == f"Authorization: Bearer {REDACTED}"
    assert scrub("header was 'bearer eyJhbGciOi.J9x2.sig_3'") == f"header was 'bearer {REDACTED}'"
    assert scrub("Basic dXNlcjpwYXNzd29yZDE=") == f"Basic {REDACTED}"
    # ordinary words after the scheme names are left alone
    assert scrub("Bearer authentication is explained here") == (
        "Bearer authentication is explained here"
    )
    assert scrub("Basic arithmetic") == "Basic arithmetic"


def test_credential_named_values_are_registered_with_their_token() -> None:
    register_named("Authorization", "Token 7c1e9a4b2d88f0aa")
    register_named("x-api-key", "k-123456789")
    register_named("api_key", 12345678)  # not a string: ignored
    register_named("Content-Type", "application/json")
    register_named("reasoning_effort", "high-and-thorough")
    assert "7c1e9a4b2d88f0aa" in _secrets.known() and "k-123456789" in _secrets.known()
    text = scrub("got 7c1e9a4b2d88f0aa and k-123456789 as application/json high-and-thorough")
    assert text == f"got {REDACTED} and {REDACTED} as application/json high-and-thorough"


def test_scrub_value_walks_keys_and_nested_values() -> None:
    register(KEY)
    data = {"a": [f"x{KEY}", {"b": (KEY, 3)}], KEY: None, "n": 1.5}
    assert scrub_value(data) == {
        "a": [f"x{REDACTED}", {"b": [REDACTED, 3]}],
        REDACTED: None,
        "n": 1.5,
    }


def test_keyed_log_scrubs_every_line(tmp_path: Path) -> None:
    class Opaque:
        def __str__(self) -> str:
            return f"object holding {KEY}"

    register(KEY)
    register('pa"ss\\word-9')  # a value JSON must escape
    log = KeyedLog(tmp_path / "log.jsonl", key="id")
    log.open()
    assert log.append({"id": "1", "error": f"HTTP 401: invalid key {KEY}"})
    assert log.append({"id": "2", "nested": {"deep": [f"Bearer {KEY}"]}, "obj": Opaque()})
    assert log.append({"id": "3", "text": 'echo pa"ss\\word-9 back'})
    assert log.append({"id": "4", "text": "clean"})
    log.close()
    raw = (tmp_path / "log.jsonl").read_bytes()
    assert KEY.encode() not in raw and b"ss\\\\word-9" not in raw and b"word-9" not in raw
    lines = list(read_jsonl(tmp_path / "log.jsonl"))
    assert [line["id"] for line in lines] == ["1", "2", "3", "4"]
    assert lines[0]["error"] == f"HTTP 401: invalid key {REDACTED}"
    assert lines[1]["nested"]["deep"] == [f"Bearer {REDACTED}"]
    assert lines[1]["obj"] == f"object holding {REDACTED}"
    assert lines[2]["text"] == f"echo {REDACTED} back"
    assert lines[3]["text"] == "clean"


def test_lone_surrogates_are_written_with_replacement(tmp_path: Path) -> None:
    bad = json.loads('"x \\ud800 y"')  # what a parsed response body can hold
    log = KeyedLog(tmp_path / "log.jsonl", key="id")
    log.open()
    assert log.append({"id": "1", "content": bad, "\udfff": 1})
    log.close()
    (line,) = read_jsonl(tmp_path / "log.jsonl")
    assert line == {"id": "1", "content": "x \ufffd y", "\ufffd": 1}
    write_json_atomic(tmp_path / "s.json", {"content": bad})
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8")) == {
        "content": "x \ufffd y"
    }
    assert json_bytes(["\ud83d\ude00"]).decode("utf-8") == '["\ufffd\ufffd"]'


def test_atomic_json_and_repair_scrub(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    write_json_atomic(path, {"note": f"key {KEY}"})
    assert KEY in path.read_text()  # not registered: written as is
    register(KEY)
    write_json_atomic(path, {"note": f"key {KEY}"})
    assert json.loads(path.read_text()) == {"note": f"key {REDACTED}"}
    # a log that an older version wrote with the key is cleaned when it is repaired
    log_path = tmp_path / "old.jsonl"
    old = json.dumps({"id": "1", "e": KEY}) + "\n" + json.dumps({"id": "1", "e": "dup"}) + "\n"
    log_path.write_text(old)
    assert KeyedLog(log_path, key="id").repair() == 1
    assert KEY not in log_path.read_text() and json.loads(log_path.read_text())["e"] == REDACTED

"""feedback_config.json: model credentials are not kept, and one an older version wrote
still matches the same raters config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from simulacra.errors import RunError
from simulacra.feedback._config import parse_raters_config
from simulacra.feedback._store import FeedbackStore
from simulacra.rundir import FEEDBACK_CONFIG


def fingerprint(extra_body: dict[str, Any]) -> dict[str, Any]:
    model = {
        "backend": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "judge",
        "headers": {"Authorization": "Bearer sk-judge-0123456789"},
        "extra_body": extra_body,
    }
    return parse_raters_config({"models": {"local": model}}).fingerprint()


def test_saved_raters_config_keeps_no_credentials(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    assert store.prepare(fingerprint({"api_key": "bk-0123456789"})) == 0
    text = (tmp_path / FEEDBACK_CONFIG).read_text()
    assert "0123456789" not in text
    saved = json.loads(text)["models"]["local"]
    assert saved["headers"] == {"Authorization": "<redacted>"}
    assert saved["extra_body"] == {"api_key": "<redacted>"}


def test_an_older_saved_raters_config_still_matches(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    store.prepare(fingerprint({"reasoning_effort": "low"}))
    (tmp_path / "feedback.jsonl").write_text(json.dumps({"key": "k1"}) + "\n")
    # as an older version wrote it: values kept, no settings added since
    path = tmp_path / FEEDBACK_CONFIG
    saved = json.loads(path.read_text())
    model = saved["models"]["local"]
    model["headers"] = {"Authorization": "Bearer sk-judge-0123456789"}
    model["extra_body"] = {"reasoning_effort": "low"}
    del model["max_response_bytes"], model["deadline_s"]
    path.write_text(json.dumps(saved))
    assert FeedbackStore(tmp_path).prepare(fingerprint({"reasoning_effort": "low"})) == 1
    with pytest.raises(RunError, match="different raters config"):
        FeedbackStore(tmp_path).prepare(fingerprint({"top_k": 5}))

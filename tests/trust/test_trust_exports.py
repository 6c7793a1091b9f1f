"""Pin the public surface of ``simulacra.trust`` and check its loaders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import simulacra.trust as trust
from simulacra.errors import ConfigError, RunError

FIXTURES = Path(__file__).parent / "fixtures"


def test_importing_the_command_line_does_not_load_numpy() -> None:
    code = "import sys, simulacra.trust, simulacra.trust._cli; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_read_conversations_formats(tmp_path: Path) -> None:
    corpus = trust.read_conversations(FIXTURES / "human_corpus.jsonl")
    assert len(corpus.conversations) == 42 and corpus.ids[0] == "h01" and corpus.skipped == 0
    path = tmp_path / "c.jsonl"
    lines = [
        {"conversation": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "Hello"}]},
        [{"role": "system", "content": "be nice"}, {"role": "assistant", "content": "only me"}],
        [{"role": "user", "content": [{"type": "text", "text": "part one"}, "two"]}],
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    corpus = trust.read_conversations(path)
    assert corpus.skipped == 1
    assert corpus.conversations[0] == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "Hello"},
    ]
    assert corpus.conversations[1][0]["content"] == "part one\ntwo"
    # the turns/text shape of dialogue-corpus exports (MultiWOZ, Taskmaster)
    path.write_text(json.dumps({"id": "m1", "turns": [{"role": "user", "text": "a room"}]}) + "\n")
    assert trust.read_conversations(path).conversations == [[{"role": "user", "content": "a room"}]]
    path.write_text('{"messages": "nope"}\n')
    with pytest.raises(ConfigError, match="line 1: expected a list of messages"):
        trust.read_conversations(path)
    path.write_text('[{"role": "user", "content": 5}]\n')
    with pytest.raises(ConfigError, match="line 1, message 1: message content must be text"):
        trust.read_conversations(path)
    with pytest.raises(RunError, match=r"no episodes\.jsonl"):
        trust.run_corpus(tmp_path)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        trust.nothing_here  # noqa: B018

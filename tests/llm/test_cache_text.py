"""What the response cache stores: any text a reply holds, without known secrets."""

from __future__ import annotations

import json
from pathlib import Path

from simulacra._secrets import register
from simulacra.llm import ChatParams, Completion, Message, ResponseCache, request_key

KEY = "sk-cache-9d8e7f6a5b4c"


def test_a_reply_with_a_lone_surrogate_is_cached_and_keyed(tmp_path: Path) -> None:
    odd = json.loads('"x \\ud800 y"')
    messages = [Message(role="user", content="hi"), Message(role="assistant", content=odd)]
    key = request_key("m", messages, ChatParams())
    assert key != request_key("m", [*messages[:1], Message(role="assistant")], ChatParams())
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put(key, Completion(text=odd))
    hit = cache.get(key)
    cache.close()
    assert hit is not None and hit.text == "x \ufffd y"


def test_known_secrets_are_not_cached(tmp_path: Path) -> None:
    register(KEY)
    cache = ResponseCache(tmp_path / "c.sqlite")
    cache.put("k", Completion(text=f"your key is {KEY}"))
    hit = cache.get("k")
    cache.close()
    assert hit is not None and hit.text == "your key is <redacted>"
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert KEY.encode() not in stored

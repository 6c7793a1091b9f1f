"""A SQLite response cache keyed by the full request.

The key is the SHA-256 of the canonical JSON of the model's identity, the messages and
every sampling parameter (seed included), so a cached reply is only ever returned for the
very same request. Cached completions cost no tokens: their usage counts one cached call.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

from simulacra._records import json_bytes
from simulacra.llm._types import ChatModel, ChatParams, Completion, Message, Usage


def request_key(model: str, messages: list[Message], params: ChatParams) -> str:
    payload = {
        "model": model,
        "messages": [m.to_dict() for m in messages],
        # where a call runs (its affinity) does not change what it answers
        "params": {k: v for k, v in params.to_dict().items() if k != "affinity"},
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # a lone surrogate (a reply can hold one) has no UTF-8 form: hash its code unit
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ResponseCache:
    """A key → completion table in one SQLite file (WAL, safe across processes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, completion TEXT NOT NULL)"
        )
        self._db.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute(
                "SELECT completion FROM responses WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return Completion.from_dict(json.loads(row[0]))

    def put(self, key: str, completion: Completion) -> None:
        # written like every other file: known secrets scrubbed, lone surrogates replaced
        text = json_bytes(completion.to_dict()).decode("utf-8")
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses (key, completion) VALUES (?, ?)", (key, text)
            )
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()


class CachedModel:
    """Serves repeated requests from a ``ResponseCache``; errors are never cached."""

    def __init__(self, inner: ChatModel, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def name(self) -> str:
        return self.inner.name

    async def chat(self, messages: list[Message], params: ChatParams | None = None) -> Completion:
        params = params or ChatParams()
        key = request_key(self.inner.name, messages, params)
        hit = await self._get(key)
        if hit is not None:
            return hit.with_(cached=True, usage=Usage(cached_calls=1), latency_s=0.0)
        completion = await self.inner.chat(messages, params)
        await self._put(key, completion)
        return completion

    async def _get(self, key: str) -> Completion | None:
        return self.cache.get(key)

    async def _put(self, key: str, completion: Completion) -> None:
        self.cache.put(key, completion)

    async def aclose(self) -> None:
        await self.inner.aclose()

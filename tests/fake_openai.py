"""A small OpenAI-compatible chat server for tests and benchmarks (a real HTTP server).

Replies vary per request. A request from the simulated user ("Say (N words): …") is
answered with the planned text, so the user's guards pass; other requests get an
assistant-style reply without numbers or questions. Behaviour can be scripted through
``state``: HTTP failures to return first, a fixed latency, tool calls, logprobs.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

_VOCAB = [
    "apple",
    "bridge",
    "candle",
    "dune",
    "engine",
    "forest",
    "garden",
    "harbor",
    "island",
    "jacket",
    "kettle",
    "ladder",
    "meadow",
    "needle",
    "orchard",
    "pepper",
    "quartz",
    "river",
    "saddle",
    "timber",
    "umbrella",
    "valley",
    "window",
    "yarn",
    "zephyr",
    "anchor",
    "basket",
    "canyon",
    "dragon",
    "eagle",
    "falcon",
    "glacier",
    "hammer",
    "igloo",
    "jungle",
    "lantern",
    "marble",
]
_WORDS = [
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "grove",
    "harbor",
    "iris",
    "juniper",
    "kelp",
    "lotus",
    "maple",
    "nectar",
    "onyx",
]
_PLAN = re.compile(r"^Say \((\d+) words\): (.*)$", re.S | re.M)


@dataclass
class ServerState:
    latency_s: float = 0.0
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    raw_replies: list[bytes] = field(default_factory=list)
    """Bodies sent verbatim with status 200 before any normal reply (one per request);
    with ``raw_always`` the last one is sent for every request."""
    raw_always: bool = False
    tool_call: dict[str, Any] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    record: bool = True
    counter: itertools.count[int] = field(default_factory=itertools.count)
    assistant_like: bool = False
    """Answer the simulated user's requests as an assistant would ("Sure, here is …")."""


def reply_text(body: dict[str, Any], n: int, *, assistant_like: bool = False) -> str:
    last = body["messages"][-1].get("content") or ""
    match = _PLAN.search(last)
    if match and assistant_like:
        return f"Sure, here is the answer you asked for about {match.group(2)} ({_WORDS[n % 15]})"
    if match:
        return f"{match.group(2)} ({_WORDS[n % len(_WORDS)]} {_WORDS[(n // 15) % 15]})"
    words = [_VOCAB[(n * 7919 + i * 104729 + i * i * 31) % len(_VOCAB)] for i in range(6)]
    return f"Noted: {' '.join(words)}. Tell me more."


def make_app(state: ServerState) -> Starlette:
    async def chat(request: Request) -> Response:
        body = await request.json()
        n = next(state.counter)
        if state.record:
            state.requests.append(body)
            state.headers_seen.append(dict(request.headers))
        if state.latency_s:
            await asyncio.sleep(state.latency_s)
        if state.raw_replies:
            raw = state.raw_replies[0]
            if not (state.raw_always and len(state.raw_replies) == 1):
                state.raw_replies.pop(0)
            return Response(raw, status_code=200, media_type="application/json")
        if state.failures:
            status, headers = state.failures.pop(0)
            return JSONResponse(
                {"error": {"message": f"scripted failure {status}"}},
                status_code=status,
                headers=headers,
            )
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply_text(body, n, assistant_like=state.assistant_like),
        }
        finish = "stop"
        if state.tool_call and body.get("tools") and body["messages"][-1]["role"] == "user":
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": f"call_{n}", "type": "function", "function": state.tool_call}
                ],
            }
            finish = "tool_calls"
        choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
        if body.get("logprobs"):
            choice["logprobs"] = {
                "content": [
                    {
                        "token": "A",
                        "logprob": -0.1,
                        "top_logprobs": [
                            {"token": "A", "logprob": -0.1},
                            {"token": "B", "logprob": -2.4},
                        ],
                    }
                ]
            }
        words = sum(len(str(m.get("content") or "").split()) for m in body["messages"])
        return JSONResponse(
            {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "fake"),
                "choices": [choice],
                "usage": {
                    "prompt_tokens": words,
                    "completion_tokens": len(str(message.get("content") or "").split()),
                    "total_tokens": 0,
                },
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeOpenAIServer:
    """Runs the app with uvicorn in a background thread on 127.0.0.1."""

    def __init__(self, state: ServerState | None = None, port: int | None = None) -> None:
        self.state = state or ServerState()
        self.port = port or free_port()
        config = uvicorn.Config(
            make_app(self.state),
            host="127.0.0.1",
            port=self.port,
            log_level="error",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="fake OpenAI-compatible server")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument(
        "--assistant-like",
        action="store_true",
        help='answer the user\'s requests "Sure, here is …"',
    )
    args = parser.parse_args()
    app_state = ServerState(
        latency_s=args.latency, record=False, assistant_like=args.assistant_like
    )
    uvicorn.run(
        make_app(app_state), host="127.0.0.1", port=args.port, log_level="error", access_log=False
    )

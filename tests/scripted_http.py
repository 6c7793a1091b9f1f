"""A real HTTP server on 127.0.0.1 whose ``/v1/chat/completions`` answers are written by
the test: ``handler(body, headers)`` returns any starlette response.

For what the shared fake server does not do: echo a request's credentials back in an error
body, stream an endless body, answer ``Retry-After: inf``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fake_openai import free_port

Handler = Callable[[dict[str, Any], dict[str, str]], Response | Awaitable[Response]]


def completion(text: str) -> JSONResponse:
    """A well-formed chat completion replying ``text``."""
    return JSONResponse(
        {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1},
        }
    )


class ScriptedServer:
    """uvicorn in a background thread; ``calls`` counts the requests served."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls = 0
        self.port = free_port()

        async def chat(request: Request) -> Response:
            self.calls += 1
            body = json.loads(await request.body() or b"{}")
            response = self.handler(body, dict(request.headers))
            if not isinstance(response, Response):
                response = await response
            return response

        app = Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="error", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("scripted server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

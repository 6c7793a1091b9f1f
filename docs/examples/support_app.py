"""A tiny support chat app: ``POST /chat {session_id, message}`` → ``{reply, tools}``.

It keeps each session's messages, asks for the order number until it has one, looks the
order up (a "tool" it reports in ``tools``) and says where the order is.
``POST /chat/stream`` answers the same as server-sent events, a few words at a time.
Run it with ``python support_app.py`` (it listens on http://127.0.0.1:8080).
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

ORDERS = {"A1001": "shipped on 3 May and arrives on Friday", "A1002": "waiting for payment"}
ORDER_NUMBER = re.compile(r"\bA\d{4}\b", re.IGNORECASE)
SESSIONS = web.AppKey("sessions", dict)


def answer(said: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The reply to a session's messages so far, and the tools used for it."""
    numbers = [n.upper() for text in said for n in ORDER_NUMBER.findall(text)]
    if not numbers:
        return "Happy to help! What is your order number? It looks like A1234.", []
    number = numbers[-1]
    tools = [{"name": "lookup_order", "arguments": {"order_id": number}}]
    status = ORDERS.get(number)
    if status is None:
        return f"I cannot find order {number}. Could you check the number?", tools
    return f"Order {number} {status}.", tools


async def chat(request: web.Request) -> web.Response:
    data = await request.json()
    said = request.app[SESSIONS].setdefault(data["session_id"], [])
    said.append(data["message"])
    reply, tools = answer(said)
    return web.json_response({"reply": reply, "tools": tools})


async def chat_stream(request: web.Request) -> web.StreamResponse:
    data = await request.json()
    said = request.app[SESSIONS].setdefault(data["session_id"], [])
    said.append(data["message"])
    reply, _ = answer(said)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    words = reply.split(" ")
    for index, word in enumerate(words):
        piece = word if index == len(words) - 1 else word + " "
        await response.write(f"data: {json.dumps({'delta': piece})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def make_app() -> web.Application:
    app = web.Application()
    app[SESSIONS] = {}
    app.router.add_post("/chat", chat)
    app.router.add_post("/chat/stream", chat_stream)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=8080)

"""Scripted models for the prompt-optimisation tests, importable by a config's
``function:``: an assistant that does what its system prompt says, and an optimiser."""

from __future__ import annotations

from simulacra.llm import ChatParams, Message

CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "Norway": "Oslo",
    "Egypt": "Cairo",
    "Canada": "Ottawa",
    "Chile": "Santiago",
}


def obedient(messages: list[Message], params: ChatParams) -> str:
    """Answers only when its system prompt tells it to answer; else refuses."""
    system = messages[0].content.lower() if messages and messages[0].role == "system" else ""
    question = next(m.content for m in reversed(messages) if m.role == "user")
    if "answer" not in system or "never" in system:
        return "Sorry, I cannot help with that."
    for country, capital in CAPITALS.items():
        if country in question:
            return f"The capital is {capital}."
    return "I do not know."


def reviser(messages: list[Message], params: ChatParams) -> str:
    """Reads the failures and proposes a prompt that fixes them (one seed a useless one)."""
    assert "Failed conversations" in messages[-1].content
    assert "Sorry, I cannot help" in messages[-1].content  # the transcripts are shown
    if (params.seed or 0) % 2:
        return "Here is a better one: <prompt>Be kind to people.</prompt>"
    return "<prompt>Answer every question directly and correctly.</prompt>"

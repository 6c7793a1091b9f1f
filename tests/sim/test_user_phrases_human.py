"""The stock phrases of a service user (a booking, an order) read as a real user's.

`simulacra fidelity` counts a turn as assistant-like when a classifier trained on a real
corpus's assistant turns against its user turns says so (docs/trust.md, section 4). The
policy says its stock acts (thanks, "no preference", a follow-up) in its own words with no
model call, so each of those phrases must read as a user's to the classifier of *both*
service corpora in the shared data: MultiWOZ bookings and Taskmaster coffee orders. The
phrases were written with these classifiers in view, so this holds them to it; the rate
over a whole run (docs/trust.md, section 5) is the figure out of sample.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulacra.sim.users import _llm_user as policy
from simulacra.trust._realism import assistant_likeness

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
# phrasings the pools once held, which each corpus's classifier reads as its assistants'
FORMER = {
    "multiwoz21-dev-sample": ["What would you suggest?", "And what do I owe you?", "Up to you."],
    "taskmaster4-coffee-sample": [
        "Great, thank you for your help.",
        "How much will that be?",
        "Is that all sorted, then?",
    ],
}

# whole turns a service user may say as they are (prefixes such as "Also," are left out:
# they never stand alone)
SERVICE_POOLS = [
    "_PUSH_SERVICE",
    "_DONE",
    "_RIGHT",
    "_DEFLECT_SERVICE",
    "_YES",
    "_FOLLOW_UP_SERVICE",
    "_CLOSE",
    "_THATS_ALL",
    "_NO_PREFERENCE",
    "_SWITCH",
    "_DROP",
    "_DROPPED_ALL",
    "_GIVE_UP",
    "_REPEATED",
]


def _corpus(name: str) -> tuple[list[str], list[list[str]]]:
    path = SHARED / name / "conversations.jsonl"
    if not path.exists():
        pytest.skip(f"shared data not here: {path}")
    assistant: list[str] = []
    users: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        turns = json.loads(line)["turns"]
        assistant += [t["text"] for t in turns if t["role"] == "assistant"]
        users.append([t["text"] for t in turns if t["role"] == "user"])
    return assistant, users


@pytest.mark.parametrize("corpus", sorted(FORMER))
def test_every_stock_phrase_of_a_service_user_reads_as_a_users(corpus: str) -> None:
    phrases = [text for name in SERVICE_POOLS for text in getattr(policy, name)]
    assert len(phrases) >= 60
    assistant, users = _corpus(corpus)
    human, scored = assistant_likeness(assistant, users, {"stock": [phrases]})
    read_as_assistant = {
        text: round(p, 2) for text, p in zip(phrases, scored["stock"][0], strict=True) if p > 0.5
    }
    assert read_as_assistant == {}
    # the classifier is no pushover: it flags some real user turns (out of fold), and
    # the phrasings the pools once held
    flat = [p for turns in human for p in turns]
    assert 0.01 < sum(p > 0.5 for p in flat) / len(flat) < 0.1
    _, former = assistant_likeness(assistant, users, {"former": [FORMER[corpus]]})
    assert all(p > 0.5 for p in former["former"][0]), former

"""A synthetic run directory: plausible episodes without any model, for trying reports.

``synthetic_run(path, episodes=10_000)`` writes ``config.json``, ``episodes.jsonl`` and
``summary.json`` (and, when asked, ``feedback.jsonl`` and ``fidelity.json``) with the built-in personas and the ``everyday`` tasks. Outcomes depend
on persona traits and task difficulty so that breakdowns have something to show; texts
are drawn from a large vocabulary so that they compress about as well as real chat text.
Everything is seeded: the same arguments write the same files.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from simulacra._records import write_json_atomic
from simulacra.rundir import (
    CONFIG,
    DEFAULT_MODE,
    EPISODES,
    FEEDBACK,
    FEEDBACK_SUMMARY,
    FIDELITY,
    SUMMARY,
    DimensionFidelity,
    Episode,
    EpisodeStore,
    FeatureFidelity,
    Fidelity,
    FidelityIntervals,
    Openers,
)
from simulacra.sim.episode import episode_id

_SYLLABLES = [
    "ka",
    "ri",
    "to",
    "ne",
    "su",
    "ma",
    "lo",
    "pe",
    "vi",
    "da",
    "shu",
    "gro",
    "ten",
    "bal",
    "mir",
    "os",
    "ut",
    "ran",
    "fel",
    "cor",
    "dis",
    "pra",
    "lin",
    "sto",
    "ve",
    "qua",
    "zel",
    "bri",
    "mon",
    "tar",
    "gil",
    "hup",
    "ex",
    "ol",
    "ar",
    "im",
]

_OPENERS = (
    "Sure, here is how to work it out.",
    "Good question. Let me walk through it step by step.",
    "To answer that I need a couple of details.",
    "Here is a quick way to think about it.",
    "Happy to help with that.",
    "Let's break this down.",
)
_ASKS = (
    "Could you tell me {what}?",
    "What is {what}?",
    "Do you know {what}?",
)
_WHATS = (
    "the exact amount",
    "how many people are involved",
    "the starting date",
    "the price before tax",
    "which units you are using",
    "the total you have in mind",
)
_ACTS = ("open", "reveal", "answer", "correct", "rephrase", "satisfied", "gave_up")
_GUARDS = ("role_drift", "dropped_fact", "off_plan", "leak", "repetition")
_SIGNALS = ("rephrase", "thanks", "frustration", "correction", "abandon", "confusion")


def _vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3))))
    return sorted(words)


def _sentence(rng: random.Random, words: list[str], low: int, high: int) -> str:
    count = rng.randint(low, high)
    text = " ".join(rng.choice(words) for _ in range(count))
    if rng.random() < 0.4:
        text += f" {rng.randint(2, 999)}"
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def _reply(rng: random.Random, words: list[str], sentences: int) -> str:
    parts = [rng.choice(_OPENERS)]
    for index in range(sentences):
        line = _sentence(rng, words, 6, 18)
        parts.append(f"\n\n{index + 1}. {line}" if rng.random() < 0.25 else line)
    return " ".join(parts).replace(" \n\n", "\n\n")


def _persona_skill(persona: dict[str, Any]) -> float:
    expertise = {"novice": -0.5, "intermediate": 0.0, "expert": 0.6}.get(persona["expertise"], 0.0)
    return float(
        expertise
        + 0.12 * (persona["patience"] - 3)
        + 0.8 * (persona["cooperativeness"] - 0.6)
        - 4.0 * persona["typo_rate"]
    )


def synthetic_episodes(
    count: int, *, seed: int = 0, name: str = "synthetic"
) -> list[dict[str, Any]]:
    """``count`` synthetic episodes (personas × tasks × repeats, in that order)."""
    from simulacra.people import builtin_personas
    from simulacra.tasks import suite_tasks

    rng = random.Random(seed)
    words = _vocabulary(rng)
    personas = [p.model_dump(mode="json") for p in builtin_personas()]
    tasks = [
        {
            "id": t.id,
            "suite": t.suite,
            "goal": t.goal,
            "facts": [f.text for f in t.facts],
            "reference": t.reference,
        }
        for t in suite_tasks("everyday")
    ]
    difficulty = {t["id"]: random.Random(f"{seed}:{t['id']}").uniform(-1.2, 1.0) for t in tasks}
    episodes: list[dict[str, Any]] = []
    started = 1_790_000_000.0
    repeat = 0
    while len(episodes) < count:
        for persona in personas:
            for task in tasks:
                if len(episodes) >= count:
                    break
                episodes.append(
                    _episode(
                        rng, words, persona, task, repeat, difficulty[task["id"]], started, name
                    )
                )
                started += rng.uniform(0.5, 4.0)
        repeat += 1
    return episodes


def _episode(
    rng: random.Random,
    words: list[str],
    persona: dict[str, Any],
    task: dict[str, Any],
    repeat: int,
    difficulty: float,
    started: float,
    run: str,
) -> dict[str, Any]:
    facts = list(task["facts"])
    turns = rng.randint(len(facts) + 1, len(facts) + 4)
    messages: list[dict[str, Any]] = []
    guard_events: list[dict[str, Any]] = []
    told = 0
    frustration = 0.0
    for turn in range(turns):
        if turn == 0:
            text, act, fact = task["goal"], "open", None
        elif told < len(facts) and rng.random() < 0.7:
            fact = facts[told]
            told += 1
            text, act = fact, "reveal"
        else:
            fact = None
            last = turn == turns - 1
            act = "satisfied" if last and rng.random() < 0.6 else rng.choice(_ACTS[2:5])
            text = "thanks, that helps" if act == "satisfied" else _sentence(rng, words, 4, 14)
        if persona["style"]["lowercase_rate"] > rng.random():
            text = text[:1].lower() + text[1:]
        frustration = min(1.0, frustration + rng.uniform(0.0, 0.15))
        messages.append(
            {
                "role": "user",
                "content": text,
                "meta": {
                    "act": act,
                    "fact": fact,
                    "length_target": rng.randint(5, 30),
                    "frustration": round(frustration, 3),
                },
            }
        )
        if rng.random() < 0.08 + persona["typo_rate"]:
            guard = rng.choice(_GUARDS)
            for attempt in range(rng.randint(1, 3)):
                guard_events.append(
                    {
                        "turn": turn,
                        "guard": guard,
                        "action": "fallback" if attempt == 2 else "regenerate",
                        "detail": _sentence(rng, words, 3, 8),
                    }
                )
        if turn < turns - 1 or rng.random() < 0.8:
            if told < len(facts) and rng.random() < 0.5:
                reply = rng.choice(_ASKS).format(what=rng.choice(_WHATS))
            else:
                reply = _reply(rng, words, rng.randint(2, 9))
            messages.append(
                {
                    "role": "assistant",
                    "content": reply,
                    "meta": {"latency_s": round(rng.uniform(0.3, 6.0), 3)},
                }
            )
    error = rng.random() < 0.01
    skill = _persona_skill(persona) - difficulty + 0.3 * (told == len(facts))
    success = None if error else rng.random() < 1 / (1 + math.exp(-skill))
    words_user = sum(len(m["content"].split()) for m in messages if m["role"] == "user")
    words_target = sum(len(m["content"].split()) for m in messages if m["role"] == "assistant")
    calls = sum(1 for m in messages if m["role"] == "assistant")
    return {
        "id": episode_id(run, persona["name"], task["id"], repeat),
        "run": run,
        "persona": persona,
        "task": task,
        "target": "assistant (synthetic)",
        "repeat": repeat,
        "mode": DEFAULT_MODE,
        "seed": rng.randint(0, 2**31 - 1),
        "status": "error" if error else "ok",
        "stop_reason": "error"
        if error
        else (
            "satisfied"
            if messages[-2 if len(messages) > 1 else 0]["meta"].get("act") == "satisfied"
            else "max_turns"
        ),
        "success": success,
        "score": None if success is None else float(success),
        "check": {}
        if error
        else {"passed": success, "extracted": rng.randint(1, 900), "detail": ""},
        "user_turns": turns,
        "messages": [] if error else messages,
        "guard_events": guard_events,
        "usage": {
            "user": {
                "prompt_tokens": 180 * turns,
                "completion_tokens": words_user,
                "total_tokens": 180 * turns + words_user,
                "calls": turns + len(guard_events),
                "cached_calls": 0,
            },
            "target": {
                "prompt_tokens": 90 * calls * calls,
                "completion_tokens": words_target,
                "total_tokens": 90 * calls * calls + words_target,
                "calls": calls,
                "cached_calls": 0,
            },
        },
        "started_at": round(started, 3),
        "duration_s": round(rng.uniform(2.0, 40.0), 3),
        "error": "ModelError: the endpoint timed out after 6 attempts" if error else None,
        "extra": {},
    }


def synthetic_feedback(episodes: list[dict[str, Any]], *, seed: int = 0) -> list[dict[str, Any]]:
    """Pairwise, rubric, critique and implicit feedback on some of the episodes."""
    rng = random.Random(seed + 1)
    items: list[dict[str, Any]] = []
    scored = [e for e in episodes if e["status"] == "ok"]
    for number, (a, b) in enumerate(zip(scored[0::2], scored[1::2], strict=False)):
        if number >= 400:
            break
        len_a = sum(len(m["content"]) for m in a["messages"] if m["role"] == "assistant")
        len_b = sum(len(m["content"]) for m in b["messages"] if m["role"] == "assistant")
        for first in ("A", "B"):
            lean = 0.15 * (1 if len_a > len_b else -1) + (0.1 if first == "A" else -0.1)
            draw = rng.random()
            verdict = "A" if draw < 0.45 + lean else ("tie" if draw < 0.55 + lean else "B")
            items.append(
                {
                    "item_id": f"pair-{number}",
                    "kind": "pairwise",
                    "rater": f"judge-{number % 3}",
                    "confidence": round(rng.uniform(0.5, 1.0), 2),
                    "verdict": verdict,
                    "first_shown": first,
                    "len_a": len_a,
                    "len_b": len_b,
                    "episode_a": a["id"],
                    "episode_b": b["id"],
                    "rationale": "Response " + verdict + " answers more directly.",
                }
            )
    for episode in scored[:600]:
        for dimension in ("helpfulness", "clarity"):
            items.append(
                {
                    "item_id": f"rubric-{episode['id']}-{dimension}",
                    "kind": "rubric",
                    "rater": "rubric-judge",
                    "confidence": 0.8,
                    "dimension": dimension,
                    "score": rng.randint(2, 5) if episode["success"] else rng.randint(1, 4),
                    "scale": [1, 5],
                    "episode": episode["id"],
                    "rationale": "Scored on the final answer.",
                }
            )
        user_turns = [m for m in episode["messages"] if m["role"] == "user"]
        if len(user_turns) > 1:
            items.append(
                {
                    "item_id": f"implicit-{episode['id']}",
                    "kind": "implicit",
                    "rater": "signal-reader",
                    "confidence": 0.7,
                    "episode": episode["id"],
                    "turn": rng.randrange(1, len(user_turns)),
                    "signals": rng.sample(_SIGNALS, rng.randint(1, 2)),
                }
            )
    return items


def synthetic_fidelity(*, seed: int = 0) -> Fidelity:
    """A realism table comparing synthetic users with (made-up) human reference numbers."""
    rng = random.Random(seed + 2)
    dimensions: dict[str, DimensionFidelity] = {}
    bounds: dict[str, list[float | None]] = {}
    for dimension, features in (
        ("turn length", ("mean words", "sd words")),
        ("dialogue acts", ("reveal rate", "rephrase rate", "thanks rate")),
        ("surface", ("typo rate", "lowercase start", "question marks")),
    ):
        rows = {}
        for feature in features:
            human = round(rng.uniform(0.05, 20.0), 2)
            simulated = round(human * rng.uniform(0.6, 1.4), 2)
            rows[feature] = FeatureFidelity(
                simulated=simulated,
                human=human,
                similarity=round(1 - abs(simulated - human) / max(simulated, human), 3),
            )
        score = 100 * sum(f.similarity or 0.0 for f in rows.values()) / len(rows)
        dimensions[dimension] = DimensionFidelity(score=round(score, 1), features=rows)
        bounds[dimension] = [round(score - 6, 1), round(min(100.0, score + 5), 1)]
    index = round(sum(d.score or 0.0 for d in dimensions.values()) / len(dimensions), 1)
    return Fidelity(
        index=index,
        ceiling=88.0,
        dimensions=dimensions,
        intervals=FidelityIntervals(
            confidence=0.95,
            n_resamples=200,
            index=[round(index - 5, 1), round(min(100.0, index + 4), 1)],
            dimensions=bounds,
        ),
        openers=Openers(
            top=[("i need", 0.21), ("can you", 0.12), ("hi i'm", 0.05)],
            canned={"wait, that's not everything": 0.02},
        ),
    )


def synthetic_run(
    run_dir: str | Path,
    *,
    episodes: int = 1000,
    seed: int = 0,
    name: str | None = None,
    feedback: bool = False,
    fidelity: bool = False,
) -> Path:
    """Write a synthetic run directory and return its path (through the run directory's
    own records and writers, so it reads back as any run does)."""
    from simulacra.rundir import summarize

    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    run = name or path.name
    records = [
        Episode.from_dict(e).to_dict() for e in synthetic_episodes(episodes, seed=seed, name=run)
    ]
    (path / EPISODES).unlink(missing_ok=True)
    store = EpisodeStore(path)
    store.open()
    try:
        for episode in records:
            store.append(episode)
    finally:
        store.close()
    summary = summarize([Episode.from_dict(e) for e in records], seed=seed).to_dict()
    cells = {(e["persona"]["name"], e["task"]["id"]) for e in records}
    summary.update({"run": run, "complete": True, "scheduled": len(records)})
    write_json_atomic(path / SUMMARY, summary)
    config = {
        "name": run,
        "seed": seed,
        "models": {"synthetic": {"backend": "scripted", "model": None}},
        "user": {"simulator": "llm", "model": "synthetic", "temperature": 0.8},
        "target": {"type": "model", "name": "assistant (synthetic)", "model": "synthetic"},
        "repeats": max(1, math.ceil(len(records) / len(cells))) if cells else 1,
        "max_turns": 8,
    }
    write_json_atomic(path / CONFIG, config)
    if feedback:  # the two files `simulacra judge` writes
        from simulacra.feedback import summarize_judgements

        items = synthetic_feedback(records, seed=seed)
        with (path / FEEDBACK).open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item) + "\n")
        judged = summarize_judgements(items, seed=seed)
        judged.run = run
        write_json_atomic(path / FEEDBACK_SUMMARY, judged.to_dict())
    if fidelity:
        write_json_atomic(path / FIDELITY, synthetic_fidelity(seed=seed).to_dict())
    return path

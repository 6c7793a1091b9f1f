"""Fixtures for the report tests: run directories of every shape, and a headless browser."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest

from summaries import summary_of

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

# Hostile strings: each must reach the page as plain, visible text.
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    "[click](javascript:alert(3))",
    "javascript:alert(4)",
    '<a href="javascript:alert(5)">link</a>',
    "<!-- not a comment --> & \u2028\u2029 end",
]


def persona(name: str, display: str, **traits: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "name": name,
        "display_name": display,
        "background": f"{display} is a test persona.",
        "expertise": "intermediate",
        "big_five": {
            "openness": 0.5,
            "conscientiousness": 0.5,
            "extraversion": 0.5,
            "agreeableness": 0.5,
            "neuroticism": 0.5,
        },
        "patience": 3,
        "cooperativeness": 0.7,
        "verbosity": 0.35,
        "typo_rate": 0.02,
        "language": "en",
        "style": {"lowercase_rate": 0.1, "formality": 0.4, "description": "plain"},
        "hidden_preferences": ["likes short answers"],
        "tags": [],
    }
    record.update(traits)
    return record


def task(task_id: str, suite: str = "everyday", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": task_id,
        "suite": suite,
        "goal": f"Goal of {task_id}?",
        "facts": [f"First fact of {task_id}.", f"Second fact of {task_id}."],
        "reference": "42",
    }
    record.update(fields)
    return record


def episode(
    run: str,
    who: dict[str, Any],
    what: dict[str, Any],
    repeat: int = 0,
    *,
    success: bool | None = True,
    status: str = "ok",
    messages: list[dict[str, Any]] | None = None,
    guard_events: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    if messages is None:
        messages = [
            {"role": "user", "content": what["goal"], "meta": {"act": "open", "fact": None}},
            {"role": "assistant", "content": f"What do you know about {what['id']}?"},
            {
                "role": "user",
                "content": what["facts"][0],
                "meta": {"act": "reveal", "fact": what["facts"][0], "frustration": 0.1},
            },
            {"role": "assistant", "content": f"The answer for {who['name']} is 42."},
        ]
    record: dict[str, Any] = {
        "id": f"{run}-{who['name']}-{what['id']}-{repeat}",
        "run": run,
        "persona": who,
        "task": what,
        "target": "model:test",
        "repeat": repeat,
        "mode": "sharded",
        "seed": 7,
        "status": status,
        "stop_reason": "error" if status == "error" else "satisfied",
        "success": None if status == "error" else success,
        "score": None if status == "error" or success is None else float(success),
        "check": {"passed": success, "extracted": 42.0, "detail": "expected 42"},
        "user_turns": sum(1 for m in messages if m.get("role") == "user"),
        "messages": messages,
        "guard_events": guard_events or [],
        "usage": {
            "user": {
                "prompt_tokens": 100,
                "completion_tokens": 20,
                "total_tokens": 120,
                "calls": 2,
                "cached_calls": 0,
            },
            "target": {
                "prompt_tokens": 200,
                "completion_tokens": 50,
                "total_tokens": 250,
                "calls": 2,
                "cached_calls": 1,
            },
        },
        "started_at": 1_790_000_000.0,
        "duration_s": 3.5,
        "error": "ModelError: timed out" if status == "error" else None,
        "extra": {},
    }
    record.update(fields)
    return record


def write_jsonl(path: Path, items: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")


@dataclass
class Runs:
    """Writes run directories under ``root``."""

    root: Path
    made: list[Path] = field(default_factory=list)

    def write(
        self,
        name: str,
        episodes: list[dict[str, Any]],
        *,
        summary: dict[str, Any] | str | None = "auto",
        config: dict[str, Any] | None = None,
        feedback: list[dict[str, Any]] | None = None,
        feedback_summary: dict[str, Any] | None = None,
        fidelity: dict[str, Any] | None = None,
    ) -> Path:

        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        write_jsonl(path / "episodes.jsonl", episodes)
        if summary == "auto":
            summary = summary_of(episodes)
            summary.update({"run": name, "complete": True})
        if isinstance(summary, dict):
            (path / "summary.json").write_text(json.dumps(summary, indent=2))
        if config is not None:
            (path / "config.json").write_text(json.dumps(config))
        if feedback is not None:
            write_jsonl(path / "feedback.jsonl", feedback)
        if feedback_summary is not None:
            (path / "feedback_summary.json").write_text(json.dumps(feedback_summary))
        if fidelity is not None:
            (path / "fidelity.json").write_text(json.dumps(fidelity))
        self.made.append(path)
        return path

    # -- the standard runs --------------------------------------------------------------

    PERSONAS: ClassVar[list[dict[str, Any]]] = [
        persona(
            "novice-nora", "Nora", expertise="novice", patience=1, verbosity=0.1, tags=["mobile"]
        ),
        persona("expert-eli", "Eli", expertise="expert", patience=6, verbosity=0.8, tags=["desk"]),
        persona("mid-maya", "Maya", expertise="intermediate", patience=3, verbosity=0.5),
    ]
    TASKS: ClassVar[list[dict[str, Any]]] = [
        task("flour"),
        task("tip"),
        task("lookup-order", suite="retail"),
    ]

    def rich_episodes(self, name: str, *, flip: bool = False) -> list[dict[str, Any]]:
        episodes = []
        for p_index, who in enumerate(self.PERSONAS):
            for t_index, what in enumerate(self.TASKS):
                for repeat in range(2):
                    success = (p_index + t_index + repeat) % 3 != 0
                    if flip:
                        success = (p_index + repeat) % 2 == 0
                    episodes.append(episode(name, who, what, repeat, success=success))
        # a tool-using episode, guard events and an error
        episodes[0]["messages"] = [
            {
                "role": "user",
                "content": "Where is order 17?",
                "meta": {"act": "open", "fact": None},
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "find_order", "arguments": '{"id": 17}'},
                    }
                ],
            },
            {
                "role": "tool",
                "tool_call_id": "c1",
                "name": "find_order",
                "content": '{"status": "shipped"}',
            },
            {"role": "assistant", "content": "Order 17 has shipped."},
            # the simulated user checks their own device: kept, never shown to the agent
            {
                "role": "user",
                "content": "",
                "tool_calls": [
                    {
                        "id": "u1",
                        "type": "function",
                        "function": {"name": "check_mailbox", "arguments": "{}"},
                    }
                ],
                "meta": {"by": "user"},
            },
            {
                "role": "tool",
                "tool_call_id": "u1",
                "name": "check_mailbox",
                "content": "<b>Parcel 17</b> <script>alert(1)</script>",
                "meta": {"by": "user"},
            },
            {
                "role": "user",
                "content": "First fact of flour.",
                "meta": {"act": "reveal", "fact": "First fact of flour."},
            },
            {"role": "assistant", "content": "Thanks, noted."},
        ]
        episodes[0]["user_turns"] = 2
        episodes[1]["guard_events"] = [
            {
                "turn": 1,
                "guard": "role_drift",
                "action": "regenerate",
                "detail": "assistant-like phrase",
            },
            {
                "turn": 1,
                "guard": "role_drift",
                "action": "fallback",
                "detail": "assistant-like phrase",
            },
        ]
        episodes[2]["guard_events"] = [
            {"turn": 0, "guard": "dropped_fact", "action": "regenerate", "detail": "fact missing"}
        ]
        episodes[-1] = episode(
            name, self.PERSONAS[2], self.TASKS[2], 1, status="error", messages=[]
        )
        return episodes

    def rich(self, name: str = "rich") -> Path:
        """Every file a run directory can hold, with every optional summary field."""

        episodes = self.rich_episodes(name)
        summary = summary_of(episodes)
        summary.update(
            {
                "run": name,
                "complete": True,
                "pass_hat_k": {
                    "1": {"value": 0.6, "low": 0.4, "high": 0.8, "n": 3, "level": 0.95},
                    "2": {"value": 0.35, "low": 0.2, "high": 0.55, "n": 3, "level": 0.95},
                },
                "aptitude": {"value": 0.9, "low": 0.8, "high": 1.0, "n": 3},
                "unreliability": {"value": 0.5, "low": 0.3, "high": 0.7, "n": 3},
                "multi_turn_drop": {"value": 12.5, "low": None, "high": None, "n": 3},
                "policy": {
                    "episodes": 5,
                    "with_violations": 2,
                    "violations": {"authenticate-before-write": 2},
                    "success_without_violation": {"value": 0.2, "low": 0.0, "high": 0.6, "n": 5},
                },
                "by_suite": {
                    "everyday": {"value": 0.7, "low": 0.5, "high": 0.9, "n": 12},
                    "retail": {"value": 0.4, "low": 0.2, "high": 0.6, "n": 5},
                },
                "future_field": {"anything": [1, 2, 3]},
            }
        )
        ids = [e["id"] for e in episodes]
        feedback: list[dict[str, Any]] = []
        for number in range(6):
            for first in ("A", "B"):
                feedback.append(
                    {
                        "item_id": f"pair-{number}",
                        "kind": "pairwise",
                        "rater": f"judge-{number % 2}",
                        "confidence": 0.8,
                        "verdict": ["A", "B", "tie", "A", "A", None][number],
                        "first_shown": first,
                        "len_a": 100 + 10 * number,
                        "len_b": 120 - 5 * number,
                        "episode_a": ids[2 * number],
                        "episode_b": ids[2 * number + 1],
                        "rationale": f"Pair {number} rationale.",
                    }
                )
        feedback += [
            {
                "item_id": "r1",
                "kind": "rubric",
                "rater": "rubric-judge",
                "confidence": 0.9,
                "dimension": "helpfulness",
                "score": 4,
                "scale": [1, 5],
                "episode": ids[0],
                "rationale": "Clear and correct.",
            },
            {
                "item_id": "r2",
                "kind": "rubric",
                "rater": "rubric-judge",
                "confidence": 0.9,
                "dimension": "helpfulness",
                "score": 2,
                "scale": [1, 5],
                "episode": ids[1],
            },
            {
                "item_id": "c1",
                "kind": "critique",
                "rater": "critic",
                "confidence": 0.6,
                "episode": ids[0],
                "critique": "Should have confirmed the order number.",
            },
            {
                "item_id": "i1",
                "kind": "implicit",
                "rater": "signals",
                "confidence": 0.7,
                "episode": ids[0],
                "turn": 1,
                "signals": ["rephrase", "frustration"],
            },
            {
                "item_id": "x1",
                "kind": "brand-new-kind",
                "rater": "someone",
                "episode": ids[0],
                "whatever": 1,
            },
        ]
        estimate_ = {"low": 0.4, "high": 0.7, "n": 10, "level": 0.95}
        feedback_summary = {  # the layout of `simulacra judge`
            "run": name,
            "judgements": dict(Counter(str(item["kind"]) for item in feedback)),
            "pairwise": {
                "other": {
                    "items": 5,
                    "judged": 12,
                    "abstained": 2,
                    "wins_a": 6,
                    "wins_b": 2,
                    "ties": 2,
                    "win_rate": {**estimate_, "value": 0.6},
                    "length_controlled": {
                        "win_rate": {**estimate_, "value": 0.55},
                        "beta0": 0.2,
                        "beta1": {"value": 0.3, "low": -0.1, "high": 0.6, "n": 10},
                        "raw_win_rate": 0.6,
                    },
                    "by_rater": [
                        {"rater": "judge-0", "win_rate": {**estimate_, "value": 0.66}},
                        {"rater": "judge-1", "win_rate": {**estimate_, "value": 0.5}},
                    ],
                }
            },
            "bias": {
                "position": {
                    "judged_orders": 10,
                    "first_position_win_rate": {"value": 0.62, "low": 0.51, "high": 0.73},
                    "swap_consistency": {
                        "consistency": {"value": 0.7, "low": 0.5, "high": 0.9, "n": 5},
                        "first_position": 0.2,
                        "second_position": 0.1,
                        "other": 0.0,
                        "n": 5,
                    },
                },
                "verbosity": {
                    "pairs": 10,
                    "longer_wins": {"value": 0.58, "low": 0.45, "high": 0.7, "n": 10},
                    "length_coefficient": {"value": 0.3, "low": -0.1, "high": 0.6, "n": 10},
                },
                "agreement": {
                    "items": 5,
                    "mean_cohen_kappa": 0.41,
                    "krippendorff_alpha": 0.38,
                },
            },
            "rubric": {
                "helpfulness": {
                    "mean": {"value": 3.0, "low": 2.0, "high": 4.0, "n": 2},
                    "scored": 2,
                    "scale": [1, 5],
                }
            },
            "implicit": {"signals": {"rephrase": 1, "frustration": 1, "thanks": 0}},
            "unknown_extra": {"value": 0.33, "low": 0.1, "high": 0.5},
        }
        fidelity = {  # the layout of `simulacra fidelity`
            "index": 72.5,
            "ceiling": 90.0,
            "dimensions": {
                "turn length": {
                    "score": 65.0,
                    "features": {
                        "mean words": {"simulated": 9.1, "human": 11.4, "similarity": 0.82},
                        "sd words": {"simulated": 3.0, "human": 6.2, "similarity": 0.48},
                    },
                },
                "dialogue acts": {
                    "score": 77.0,
                    "features": {
                        "reveal rate": {"simulated": 0.4, "human": 0.3, "similarity": 0.77},
                        "no data": {"simulated": None, "human": 0.1, "similarity": None},
                    },
                },
            },
            "ceiling_dimensions": {"turn length": 88.0, "dialogue acts": 92.0},
            "distributions": {
                "words_per_turn": {"wasserstein": 2.1, "ks_statistic": 0.3, "ks_pvalue": 0.01}
            },
            "human_corpus": "/data/humans.jsonl",
            "run": "runs/rich",
            "n_conversations": {"simulated": 18, "human": 120},
            "n_user_turns": {"simulated": 36, "human": 480},
            "classifier": "a test classifier",
            "intervals": {
                "confidence": 0.95,
                "n_resamples": 200,
                "index": [66.0, 78.5],
                "dimensions": {"turn length": [58.0, 71.0], "dialogue acts": [70.0, 83.0]},
                "similarity": {"mean words": [0.7, 0.9]},
            },
            "openers": {
                "top": [["i need", 0.25], ["can you", 0.125]],
                "canned": {"hold on, you're missing something": 0.05},
            },
            "ceiling_at_size": {
                "size": 18,
                "index": 81.25,
                "dimensions": {"turn length": 80.0, "dialogue acts": 82.5},
                "features": {"mean words": 0.93, "sd words": 0.71, "reveal rate": 0.64},
                "splits": [80.0, 82.5],
            },
        }
        config = {
            "name": name,
            "seed": 3,
            "models": {
                "m": {
                    "backend": "openai",
                    "model": "gpt-test",
                    "base_url": "https://user:secret@example.invalid/v1",
                    "headers": {"Authorization": "<redacted>"},
                    "api_key_env": "SECRET_KEY_ENV",
                }
            },
            "user": {"simulator": "llm", "model": "m", "temperature": 0.8},
            "target": {
                "type": "model",
                "name": "model:test",
                "model": "m",
                "system_prompt": "secret system prompt",
            },
            "repeats": 2,
            "max_turns": 6,
        }
        return self.write(
            name,
            episodes,
            summary=summary,
            config=config,
            feedback=feedback,
            feedback_summary=feedback_summary,
            fidelity=fidelity,
        )

    def second(self, name: str = "second") -> Path:
        """The same persona × task × repeat grid as ``rich``, with other outcomes."""
        return self.write(name, self.rich_episodes(name, flip=True))

    def minimal(self, name: str = "minimal") -> Path:
        """Only episodes.jsonl, two episodes, no repeats: no optional section applies."""
        who, what = self.PERSONAS[0], self.TASKS[0]
        return self.write(
            name,
            [
                episode(name, who, what, 0, success=True),
                episode(name, who, self.TASKS[1], 0, success=False),
            ],
            summary=None,
        )

    def hostile(self, name: str = "hostile") -> Path:
        """Every free-text field carries markup and script-looking strings."""
        p1, p2, p3, p4, p5, p6, p7 = XSS
        who = persona(
            "evil",
            p2,
            background=p1,
            hidden_preferences=[p3, p4],
            tags=[p5],
            style={"description": p6},
        )
        what = task("xss-task", goal=p1, facts=[p3, p4], reference=p6)
        messages = [
            {"role": "user", "content": p1, "meta": {"act": p5, "fact": p3}},
            {"role": "assistant", "content": p2 + "\n" + p4},
            {"role": "user", "content": p3, "meta": {"act": "reveal", "fact": p3}},
            {
                "role": "assistant",
                "content": p6,
                "tool_calls": [
                    {"id": p5, "type": "function", "function": {"name": p1, "arguments": p3}}
                ],
            },
            {"role": "tool", "tool_call_id": p5, "name": p2, "content": p7},
            {"role": p1, "content": p5},
        ]
        bad = episode(
            name,
            who,
            what,
            0,
            success=False,
            messages=messages,
            guard_events=[{"turn": 0, "guard": p2, "action": "fallback", "detail": p1}],
            stop_reason=p3,
            target=p4,
        )
        bad["check"] = {"passed": False, "extracted": p1, "detail": p2}
        bad["extra"] = {"note": p3}
        errored = episode(name, who, what, 1, status="error", messages=[])
        errored["error"] = p3
        feedback = [
            {
                "item_id": "f1",
                "kind": "critique",
                "rater": p2,
                "episode": bad["id"],
                "critique": p1,
            },
            {
                "item_id": "f2",
                "kind": "implicit",
                "rater": "r",
                "episode": bad["id"],
                "turn": 0,
                "signals": [p4, p2],
            },
            {
                "item_id": "f3",
                "kind": "rubric",
                "rater": "r",
                "episode": bad["id"],
                "dimension": p3,
                "score": 3,
                "scale": [1, 5],
                "rationale": p6,
            },
        ]
        fidelity = {
            "index": 50,
            "dimensions": {
                p1: {"score": 50, "features": {p2: {"simulated": 1, "human": 2, "similarity": 0.5}}}
            },
            "openers": {"top": [[p3, 0.5]], "canned": {p4: 0.25}},
            "classifier": p5,
            "notes": [p6],
        }
        config = {"name": p3, "target": {"type": "model", "name": p1}, "user": {"simulator": p2}}
        summary: dict[str, Any] = {}

        summary = summary_of([bad, errored])
        summary["run"] = p3
        return self.write(
            name,
            [bad, errored],
            summary=summary,
            config=config,
            feedback=feedback,
            fidelity=fidelity,
        )


@pytest.fixture
def runs(tmp_path: Path) -> Runs:
    return Runs(tmp_path / "runs")


# --- browser ---------------------------------------------------------------------------


@dataclass
class Watch:
    """What a page did: requests, dialogs, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(
            "browser tests need Chromium at /usr/bin/chromium "
            "(Debian: apt-get install -y chromium); it is missing"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def watch() -> Watch:
    return Watch()


def _page(browser: Any, watch: Watch, *, bypass_csp: bool) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900}, bypass_csp=bypass_csp)
    tab = context.new_page()
    tab.on("request", lambda request: watch.requests.append(request.url))

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    tab.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: watch.errors.append(str(e)))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, watch: Watch) -> Iterator[Any]:
    """A tab that ignores the page's Content-Security-Policy: escaping alone must hold,
    and the test tools may evaluate scripts."""
    yield from _page(browser, watch, bypass_csp=True)


@pytest.fixture
def strict_page(browser: Any, watch: Watch) -> Iterator[Any]:
    """A tab that enforces the page's Content-Security-Policy, as a reader's browser does."""
    yield from _page(browser, watch, bypass_csp=False)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

"""Run directories to export, made of the run directory's own records and writers, and
how the tests load and render what is exported (a module of its own, not a conftest:
the test folders share one ``conftest`` module name)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from simulacra._records import KeyedLog, write_json_atomic
from simulacra.rundir import (
    CONFIG,
    FEEDBACK,
    Episode,
    EpisodeStore,
    FeedbackRecord,
    GuardEventRecord,
    MessageRecord,
    PersonaRef,
    TaskRef,
)

SYSTEM = "You are the shop's assistant."


def message(role: str, content: str = "", **fields: Any) -> MessageRecord:
    return MessageRecord.model_validate({"role": role, "content": content, **fields})


def episode(
    id: str,
    turns: Sequence[MessageRecord],
    *,
    persona: str = "busy-nurse",
    task: str = "order-status",
    mode: str = "sharded",
    repeat: int = 0,
    success: bool | None = True,
    fallback: bool = False,
    status: str = "ok",
) -> Episode:
    return Episode(
        id=id,
        run="shop",
        persona=PersonaRef(name=persona),
        task=TaskRef(id=task, suite="shop", goal="Where is my order?", reference="It has shipped."),
        target="shop-bot",
        repeat=repeat,
        mode=mode,
        seed=7 + repeat,
        status=status,  # type: ignore[arg-type]
        stop_reason="satisfied",
        success=success,
        score=None if success is None else float(success),
        user_turns=sum(1 for m in turns if m.role == "user"),
        messages=list(turns),
        guard_events=[GuardEventRecord(turn=0, guard="role_drift", action="fallback")]
        if fallback
        else [],
    )


def tool_turns(answer: str = "Order 7 has shipped.") -> list[MessageRecord]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_order", "arguments": '{"order_id": "7"}'},
    }
    return [
        message("user", "where is order 7", meta={"act": "open"}),
        message("assistant", "", tool_calls=[call]),
        message("tool", '{"status": "shipped"}', tool_call_id="call_1", name="get_order"),
        message("assistant", answer, meta={"latency_s": 0.1}),
        message("user", "thanks", meta={"act": "satisfied"}),
    ]


def pairwise(
    a: str,
    b: str | None,
    verdict: str | None,
    *,
    rater: str = "judge",
    first_shown: str = "A",
    orders: Sequence[str | None] | None = None,
    len_a: int = 10,
    len_b: int = 10,
) -> dict[str, Any]:
    item = f"repeats:{a}:{b}" if b is not None else f"reference:{a}"
    shown = orders or [verdict]
    return FeedbackRecord.model_validate(
        {
            "key": f"pairwise|{item}|{rater}",
            "kind": "pairwise",
            "item_id": item,
            "rater": rater,
            "confidence": 0.9,
            "verdict": verdict,
            "first_shown": first_shown,
            "len_a": len_a,
            "len_b": len_b,
            "episode_a": a,
            "episode_b": b,
            "both_orders": len(shown) > 1,
            "orders": [
                {"first_shown": "AB"[i % 2], "verdict": v, "confidence": 0.9}
                for i, v in enumerate(shown)
            ],
            "pairing": "repeats" if b is not None else "reference",
            "noise_flipped": False,
        }
    ).model_dump(mode="json")


def rubric(episode_id: str, score: int | None, dimension: str = "helpfulness") -> dict[str, Any]:
    return FeedbackRecord.model_validate(
        {
            "key": f"rubric|episode:{episode_id}|rubric|{dimension}",
            "kind": "rubric",
            "item_id": f"episode:{episode_id}",
            "rater": "rubric",
            "dimension": dimension,
            "score": score,
            "scale": [1, 5],
            "episode": episode_id,
        }
    ).model_dump(mode="json")


MakeRun = Callable[..., Path]


@pytest.fixture(name="make_run")
def make_run_fixture(tmp_path: Path) -> MakeRun:
    def make(
        episodes: Sequence[Episode],
        feedback: Sequence[dict[str, Any]] = (),
        *,
        name: str = "shop",
        target: dict[str, Any] | None = None,
    ) -> Path:
        path = tmp_path / name
        path.mkdir()
        write_json_atomic(
            path / CONFIG,
            {
                "name": name,
                "seed": 5,
                "models": {"bot": {"backend": "scripted", "model": None}},
                "user": {"simulator": "scripted", "model": "bot", "temperature": 0.8},
                "target": target or {"type": "model", "model": "bot", "system_prompt": SYSTEM},
            },
        )
        store = EpisodeStore(path)
        store.open()
        try:
            for item in episodes:
                store.append(item.to_dict())
        finally:
            store.close()
        if feedback:
            log = KeyedLog(path / FEEDBACK, key="key")
            log.open()
            try:
                for record in feedback:
                    log.append(record)
            finally:
                log.close()
        return path

    return make


def load(path: Path, tmp_path: Path) -> Any:
    """An exported file as the real ``datasets`` library loads it."""
    import datasets

    builder = "parquet" if path.suffix == ".parquet" else "json"
    return datasets.load_dataset(
        builder, data_files=str(path), split="train", cache_dir=str(tmp_path / "hf")
    )


def chat_template(model_cache_dir: Path) -> str:
    """The chat template in the embedded model's GGUF metadata."""
    gguf = pytest.importorskip("gguf")
    from simulacra.llm._weights import default_weights

    reader = gguf.GGUFReader(str(default_weights(directory=model_cache_dir / "models")))
    field = reader.fields["tokenizer.chat_template"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")


def render(template: str, messages: list[dict[str, Any]], *, generation: bool = False) -> str:
    """Messages through a chat template, as Hugging Face tokenizers render one (a
    sandboxed Jinja2 environment, ``tojson``), after ``chat_template_messages``."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from simulacra.export import chat_template_messages

    environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    environment.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False)
    return environment.from_string(template).render(
        messages=chat_template_messages(messages), add_generation_prompt=generation
    )

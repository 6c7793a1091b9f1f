"""Which episodes are paired: the same trial means the same persona, task, mode and repeat."""

from __future__ import annotations

from simulacra.feedback._config import parse_raters_config
from simulacra.feedback._judge import between_run_pairs, within_run_pairs
from simulacra.rundir import Episode


def episode(run: str, mode: str, repeat: int, answer: str) -> Episode:
    return Episode.from_dict(
        {
            "id": f"{run}-{mode}-{repeat}",
            "status": "ok",
            "persona": {"name": "p"},
            "task": {"id": "t", "goal": "g", "reference": ""},
            "mode": mode,
            "repeat": repeat,
            "seed": repeat,
            "messages": [
                {"role": "user", "content": "question"},
                {"role": "assistant", "content": f"{answer} ({mode} {repeat})"},
            ],
        }
    )


RUN = [episode("a", mode, r, "x") for mode in ("full", "sharded") for r in range(2)]


def test_repeats_are_paired_within_a_mode() -> None:
    config = parse_raters_config({"pairing": ["repeats"]})
    items, skipped = within_run_pairs(RUN, config)
    assert not skipped
    assert sorted(i.item_id for i in items) == [
        "repeats:a-full-0:a-full-1",
        "repeats:a-sharded-0:a-sharded-1",
    ]


def test_two_runs_are_matched_mode_by_mode() -> None:
    config = parse_raters_config({})
    other = [episode("b", mode, r, "y") for mode in ("sharded", "full") for r in range(2)]
    items, matching = between_run_pairs(RUN, other, config)
    assert matching["matched"] == 4 and matching["only_in_a"] == matching["only_in_b"] == []
    assert matching["seeds_match"] == 4
    for item in items:
        _, _, _, mode, repeat = item.item_id.split(":")
        assert f"({mode} {repeat})" in str(item.response_a)
        assert f"({mode} {repeat})" in str(item.response_b)
    one_mode = [e for e in other if e.mode == "full"]
    _, partial = between_run_pairs(RUN, one_mode, config)
    assert partial["only_in_a"] == ["p/t/sharded/0", "p/t/sharded/1"]

"""A best-of-n run in the report's data: its win rate over plain samples as ``simulacra
show`` reads it, the command that compares when nothing was, and each turn's candidates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from best_of_n_runs import CANDIDATES, HOSTILE, best_of_n, compare, plain
from conftest import Runs
from simulacra.report import build_payload, load_run, render_html
from simulacra.report._payload import FIELDS
from simulacra.sim.best_of_n import comparisons_with_single_samples


def test_the_payload_carries_the_win_rate_over_n_1_as_show_reads_it(tmp_path: Path) -> None:
    best = best_of_n(tmp_path / "runs")
    waiting = build_payload([load_run(best)]).data["runs"][0]["best_of_n"]
    assert waiting["n"] == 3 and waiting["comparisons"] == []
    # no run of plain samples yet: the command names where one goes
    assert waiting["command"].startswith("simulacra compare ")
    assert waiting["command"].endswith(" RUN_OF_PLAIN_SAMPLES")
    single = plain(tmp_path / "runs")
    waiting = build_payload([load_run(best)]).data["runs"][0]["best_of_n"]
    assert waiting["plain"] == ["single"] and waiting["comparisons"] == []
    assert waiting["command"] == f"simulacra compare {best.resolve()} {single.resolve()}"
    compare(best, single)
    shown = build_payload([load_run(best)]).data["runs"][0]["best_of_n"]
    (found,) = comparisons_with_single_samples(best).comparisons  # type: ignore[union-attr]
    (laid_out,) = shown["comparisons"]
    assert laid_out["run"] == "single" and laid_out["same_model"] is True
    assert laid_out["items"] == found.comparison.items == 6
    assert found.win_rate is not None and found.length_controlled is not None
    for key, given in (
        ("win_rate", found.win_rate),
        ("length_controlled", found.length_controlled),
    ):
        assert laid_out[key]["value"] == given.value  # the file's numbers, not new ones
        assert (laid_out[key]["low"], laid_out[key]["high"]) == (given.low, given.high)
    assert laid_out["win_rate"]["value"] > 0.5  # the chooser and the rater both like length
    assert laid_out["file"] == "best/compare_single.json"
    assert shown["plain"] == []  # compared: nothing left to suggest
    # compared the other way round (the file in the plain run), seen from best-of-n
    (best / "compare_single.json").unlink()
    compare(single, best)
    flipped = build_payload([load_run(best)]).data["runs"][0]["best_of_n"]["comparisons"][0]
    assert flipped["file"] == "single/compare_best.json"
    assert flipped["win_rate"]["value"] == pytest.approx(laid_out["win_rate"]["value"])
    # a run of plain samples is no best-of-n run: nothing to show
    assert build_payload([load_run(single)]).data["runs"][0]["best_of_n"] is None


def test_each_turn_carries_its_candidates_and_the_choice(tmp_path: Path) -> None:
    best = best_of_n(tmp_path / "runs")
    payload = build_payload([load_run(best)])
    (chunk,) = payload.chunks["a"]
    detail = json.loads(chunk)[0]
    (reply,) = [m for m in detail["messages"] if m["role"] == "assistant"]
    choice = reply["best_of_n"]
    assert "best_of_n" not in reply.get("meta", {})  # laid out once, not also as meta
    assert [c["content"] for c in choice["candidates"]] == CANDIDATES
    assert choice["chosen"] == 1 and reply["content"] == CANDIDATES[1]
    assert choice["rater"] == "chooser" and choice["error"] is None
    assert [(c["champion"], c["challenger"], c["verdict"]) for c in choice["comparisons"]] == [
        (0, 1, "B"),
        (1, 2, "A"),
    ]
    # the candidates' markup never reaches the page as markup
    html = render_html(payload)
    for text in HOSTILE:
        assert text not in html
    assert "<script>alert" not in html


def test_a_long_candidate_is_cut_like_a_message(runs: Runs) -> None:
    from conftest import episode, persona, task

    record = episode("long", persona("p", "P"), task("t"))
    record["messages"][1]["meta"] = {
        "best_of_n": {
            "n": 2,
            "rater": "r",
            "chosen": 0,
            "candidates": [{"role": "assistant", "content": "x" * 50_000}, "not a message"],
            "comparisons": [{"champion": 0, "challenger": 1, "verdict": "A", "orders": []}],
            "error": None,
        },
        "latency_s": 0.5,
    }
    path = runs.write("long", [record])
    payload = build_payload([load_run(path)])
    reply = json.loads(payload.chunks["a"][0])[0]["messages"][1]
    first, second = reply["best_of_n"]["candidates"]
    assert first["content"].endswith("[30,000 more characters]")
    assert second == {"role": "assistant", "content": "not a message"}
    assert reply["meta"] == {"latency_s": 0.5}
    assert len(payload.data["runs"][0]["rows"][0]) == len(FIELDS)

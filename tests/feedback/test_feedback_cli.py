"""``simulacra judge``, ``compare`` and ``fit-rater`` on run directories made with scripted models."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import simulacra
from simulacra.cli import app
from simulacra.feedback import read_feedback
from simulacra.llm import ChatParams, Message
from simulacra.runs import parse_config

runner = CliRunner()
HERE = "test_feedback_cli"  # this module, importable by name (its folder is on sys.path)


# --- scripted models, referred to by import path -----------------------------------------


def concise(messages: list[Message], params: ChatParams) -> str:
    """A terse assistant; asked to judge, it prefers the shorter side (its own style)."""
    prompt = messages[-1].content
    if "Verdict:" in prompt:
        first = prompt.split("[Conversation A]")[1].split("[Conversation B]")[0]
        second = prompt.split("[Conversation B]")[1].split("Compare Conversation A")[0]
        return "Verdict: A" if len(first) <= len(second) else "Verdict: B"
    return "750 g of flour."


def verbose(messages: list[Message], params: ChatParams) -> str:
    return (
        "Great question! Scaling a recipe is simple: divide the flour by the people it "
        "serves, then multiply by the people you are cooking for. That gives 750 g of flour."
    )


def judge_everything(messages: list[Message], params: ChatParams) -> str:
    """A judge model that answers every kind of rater prompt in its expected form."""
    prompt = messages[-1].content
    if "Verdict:" in prompt:
        return "A reads better.\nVerdict: A"
    if "Rate the assistant on each dimension" in prompt:
        return "helpfulness: 4\ncorrectness: 5\nclarity: 3\npersonalisation: 2\nefficiency: 4"
    if "Satisfaction:" in prompt:
        return "Got what I needed.\nSatisfaction: 4"
    if "Strengths:" in prompt:
        return "Strengths:\n- Correct.\nWeaknesses:\n- Terse.\nSuggestion: Show the working."
    if "Signals:" in prompt:
        return "Signals: gratitude"
    return "?"


def make_run(tmp_path: Path, name: str, function: str, repeats: int = 2) -> Path:
    config = parse_config(
        {
            "name": name,
            "seed": 3,
            "output_dir": str(tmp_path / "runs"),
            "models": {"bot": {"backend": "scripted", "function": f"{HERE}:{function}"}},
            "user": {
                "simulator": "scripted",
                "model": "bot",
                "options": {"turns": ["How much flour for 10 people? 300 g feeds 4.", "thanks!"]},
            },
            "target": {"model": "bot", "system_prompt": "Be helpful."},
            "personas": {"builtin": ["busy-nurse", "retired-engineer"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "repeats": repeats,
        }
    )
    return simulacra.run(config).run_dir


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    return make_run(tmp_path, "concise", "concise"), make_run(tmp_path, "verbose", "verbose")


def raters_file(tmp_path: Path, text: str, name: str = "raters.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


JUDGE_YAML = f"""
models:
  judge: {{backend: scripted, function: "{HERE}:judge_everything"}}
pool:
  - {{id: llm, model: judge}}
  - {{id: first, fixed: first}}
judges_per_item: 2
noise: 0.1
rubric: {{model: judge}}
critique: {{model: judge}}
implicit: {{model: judge}}
"""


def invoke(*args: object) -> Any:
    return runner.invoke(app, [str(a) for a in args])


def said(result: Any) -> str:
    """What a command printed, with line wrapping undone."""
    return " ".join(str(result.output).split())


# --- judge --------------------------------------------------------------------------------


def test_judge_writes_every_kind_of_record_and_a_summary(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run_dir, _ = runs
    result = invoke("judge", run_dir, "--raters", raters_file(tmp_path, JUDGE_YAML))
    assert result.exit_code == 0, result.output
    assert "feedback on concise" in result.output and "position bias" in result.output
    records = read_feedback(run_dir)
    kinds = {r["kind"] for r in records}
    assert kinds == {"pairwise", "rubric", "critique", "implicit"}
    for record in records:
        assert {"item_id", "kind", "rater", "confidence"} <= set(record)
        assert record["confidence"] is None or 0.0 <= record["confidence"] <= 1.0
    pairwise = [r for r in records if r["kind"] == "pairwise"]
    # 2 personas × 2 repeats: 2 repeat pairs + 4 reference pairs, 2 judges each
    assert len(pairwise) == 12
    assert {r["pairing"] for r in pairwise} == {"repeats", "reference"}
    for record in pairwise:
        assert record["verdict"] in ("A", "B", "tie", None) and record["first_shown"] in ("A", "B")
        assert isinstance(record["len_a"], int) and isinstance(record["len_b"], int)
        assert "rationale" in record and "episode_a" in record and "episode_b" in record
    reference = [r for r in pairwise if r["pairing"] == "reference"]
    assert all(r["episode_b"] is None and r["len_b"] == len("750 g of flour") for r in reference)
    rubric = [r for r in records if r["kind"] == "rubric"]
    assert {r["dimension"] for r in rubric} == {
        "helpfulness",
        "correctness",
        "clarity",
        "personalisation",
        "efficiency",
        "satisfaction",
    }
    assert all(isinstance(r["score"], int) and r["scale"] == [1, 5] for r in rubric)
    implicit = [r for r in records if r["kind"] == "implicit"]
    assert all(isinstance(r["turn"], int) and isinstance(r["signals"], list) for r in implicit)
    thanks = [r for r in implicit if r["turn"] == 1]
    assert thanks and all(r["signals"] == ["gratitude"] for r in thanks)

    summary = json.loads((run_dir / "feedback_summary.json").read_text())
    assert set(summary["pairwise"]) == {"reference", "repeats"}
    assert summary["bias"]["agreement"]["items"] == 6
    assert summary["bias"]["position"]["judged_orders"] == 12
    assert summary["rubric"]["correctness"]["mean"]["value"] == 5.0
    assert summary["implicit"]["signals"]["gratitude"] == 4
    assert summary["critique"] == {"written": 4, "abstained": 0}
    assert summary["target_model"] == f"scripted:{HERE}:concise"


def test_judge_again_is_safe_and_repairs_a_torn_line(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run_dir, _ = runs
    raters = raters_file(tmp_path, JUDGE_YAML)
    assert invoke("judge", run_dir, "--raters", raters).exit_code == 0
    before = (run_dir / "feedback.jsonl").read_text()
    again = invoke("judge", run_dir, "--raters", raters)
    assert again.exit_code == 0 and "(0 new," in again.output
    assert (run_dir / "feedback.jsonl").read_text() == before
    # a crash mid-write leaves a torn line: it is cut, and the lost judgement redone
    lines = before.splitlines(keepends=True)
    (run_dir / "feedback.jsonl").write_text("".join(lines[:-1]) + lines[-1][:25])
    repaired = invoke("judge", run_dir, "--raters", raters)
    assert repaired.exit_code == 0 and "(1 new," in repaired.output
    keys = [r["key"] for r in read_feedback(run_dir)]
    assert len(keys) == len(set(keys)) == len(lines)
    # another config may not add to this file, unless asked to start over
    other = raters_file(tmp_path, JUDGE_YAML.replace("noise: 0.1", "noise: 0.2"), "other.yaml")
    refused = invoke("judge", run_dir, "--raters", other)
    assert refused.exit_code == 2 and "different raters config" in refused.output
    fresh = invoke("judge", run_dir, "--raters", other, "--overwrite")
    assert fresh.exit_code == 0
    assert json.loads((run_dir / "feedback_config.json").read_text())["noise"] == 0.2
    assert len(read_feedback(run_dir)) == len(lines)
    # a damaged record of the config is not taken as "same config"
    (run_dir / "feedback_config.json").write_text('{"noise": ')
    damaged = invoke("judge", run_dir, "--raters", other)
    assert damaged.exit_code == 2 and "unreadable" in said(damaged)
    assert "judge again from scratch" in said(damaged)
    assert len(read_feedback(run_dir)) == len(lines)


def test_judge_only_the_kinds_asked_for(runs: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, _ = runs
    result = invoke(
        "judge", run_dir, "--raters", raters_file(tmp_path, JUDGE_YAML), "--kinds", "implicit"
    )
    assert result.exit_code == 0, result.output
    assert {r["kind"] for r in read_feedback(run_dir)} == {"implicit"}
    bad = invoke(
        "judge", run_dir, "--raters", raters_file(tmp_path, JUDGE_YAML), "--kinds", "vibes"
    )
    assert bad.exit_code == 2 and "unknown kind 'vibes'" in bad.output


def test_judge_checks_human_labels(runs: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, _ = runs
    raters = raters_file(tmp_path, JUDGE_YAML.replace("rubric:", "#").replace("critique:", "#"))
    assert invoke("judge", run_dir, "--raters", raters, "--kinds", "pairwise").exit_code == 0
    items = sorted({r["item_id"] for r in read_feedback(run_dir)})
    labels = tmp_path / "human.jsonl"
    labels.write_text("".join(json.dumps({"item_id": i, "verdict": "A"}) + "\n" for i in items))
    result = invoke(
        "judge", run_dir, "--raters", raters, "--kinds", "pairwise", "--human-labels", labels
    )
    assert result.exit_code == 0, result.output
    human = json.loads((run_dir / "feedback_summary.json").read_text())["human"]
    assert human["items"] == len(items)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"item_id": "no-such-item", "verdict": "A"}) + "\n")
    refused = invoke("judge", run_dir, "--raters", raters, "--human-labels", bad)
    assert refused.exit_code == 2
    assert "bad.jsonl" in refused.output and "unknown item id" in refused.output
    assert "no-such-item" in refused.output


def test_bad_input_exits_2_naming_the_problem(runs: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, _ = runs
    missing = invoke("judge", tmp_path / "nowhere")
    assert missing.exit_code == 2 and "no such directory" in missing.output
    broken = raters_file(tmp_path, "pool: [{id: a, model: ghost}]", "broken.yaml")
    bad_yaml = invoke("judge", run_dir, "--raters", broken)
    assert bad_yaml.exit_code == 2
    assert "broken.yaml" in bad_yaml.output and "pool[0].model" in bad_yaml.output
    assert "unknown model 'ghost'" in bad_yaml.output
    assert invoke("judge", run_dir, "--raters", tmp_path / "absent.yaml").exit_code == 2
    assert invoke("compare", run_dir, tmp_path / "nowhere").exit_code == 2
    not_a_run = tmp_path / "empty"
    not_a_run.mkdir()
    result = invoke("compare", run_dir, not_a_run)
    assert result.exit_code == 2 and "no episodes.jsonl" in result.output


# --- compare ------------------------------------------------------------------------------


COMPARE_YAML = f"""
models:
  mine: {{backend: scripted, function: "{HERE}:concise"}}
pool:
  - {{id: self, model: mine}}
  - {{id: fair, fixed: tie}}
judges_per_item: 2
"""


def test_compare_reports_win_rates_and_self_preference(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run_a, run_b = runs
    result = invoke("compare", run_a, run_b, "--raters", raters_file(tmp_path, COMPARE_YAML))
    assert result.exit_code == 0, result.output
    text = re.sub(r"\s+", " ", result.output)
    assert "concise (A) vs verbose (B)" in text
    assert "win rate of A" in text and "length-controlled win rate of A" in text
    assert "self-preference" in text and "position bias" in text
    path = run_a / "compare_verbose.json"
    data = json.loads(path.read_text())
    assert data["matching"]["matched"] == 4 and data["matching"]["seeds_match"] == 4
    assert data["items"] == 4 and len(data["judgements"]) == 8
    # the "self" rater runs on run A's model and always prefers A; the other rater ties:
    # each item's crowd verdict is the rounded mean (0.75 -> A)
    assert data["win_rate"]["value"] == 1.0
    assert data["length_controlled"]["win_rate"]["value"] is not None
    # The verbose run is longer in every pair: the LC estimate extrapolates, and says so.
    assert data["length_controlled"]["extrapolates"] is True
    assert "warning: one system is longer in" in text
    self_pref = data["bias"]["self_preference"]
    assert self_pref["raters_sharing_a_model"] == ["self"]
    assert self_pref["own_side_win_rate"]["value"] == 1.0 and self_pref["difference"] == 0.5
    assert data["target_models"] == {
        "a": f"scripted:{HERE}:concise",
        "b": f"scripted:{HERE}:verbose",
    }
    judgement = data["judgements"][0]
    assert judgement["item_id"].startswith("compare:") and judgement["episode_b"]


def test_compare_writes_where_asked_and_checks_labels(
    runs: tuple[Path, Path], tmp_path: Path
) -> None:
    run_a, run_b = runs
    out = tmp_path / "out" / "cmp.json"
    raters = raters_file(tmp_path, COMPARE_YAML)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        json.dumps({"item_id": "compare:busy-nurse:pancakes-scale:sharded:0", "preference": "B"})
        + "\n"
    )
    result = invoke(
        "compare", run_a, run_b, "--raters", raters, "--out", out, "--human-labels", labels
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["human"]["items"] == 1
    labels.write_text(json.dumps({"item_id": "compare:ghost:x:0", "verdict": "A"}) + "\n")
    refused = invoke("compare", run_a, run_b, "--raters", raters, "--human-labels", labels)
    assert refused.exit_code == 2 and "compare:ghost:x:0" in refused.output


def test_compare_needs_matching_episodes(tmp_path: Path) -> None:
    run_a = make_run(tmp_path, "one", "concise", repeats=1)
    config = parse_config(
        {
            "name": "two",
            "output_dir": str(tmp_path / "runs"),
            "models": {"bot": {"backend": "scripted", "function": f"{HERE}:verbose"}},
            "user": {"simulator": "scripted", "model": "bot"},
            "target": {"model": "bot"},
            "personas": {"builtin": ["teen-gamer"]},
            "tasks": {"suite": "everyday", "ids": ["bill-split-tip"]},
        }
    )
    run_b = simulacra.run(config).run_dir
    result = invoke("compare", run_a, run_b, "--raters", raters_file(tmp_path, COMPARE_YAML))
    assert result.exit_code == 2 and "match by persona × task × mode × repeat" in said(result)


# --- learned raters from the command line -------------------------------------------------


def test_fit_rater_and_use_it_in_a_pool(runs: tuple[Path, Path], tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "item_id": f"p{k}",
            "context": "flour for ten?",
            "response_a": "750 g." if k % 2 else "Flour is a powder. " * 6,
            "response_b": "Flour is a powder. " * 6 if k % 2 else "750 g.",
            "verdict": "A" if k % 2 else "B",
        }
        for k in range(24)
    ]
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "rater.npz"
    fitted = invoke("fit-rater", pairs, "--out", out, "--embedder", "hashing")
    assert fitted.exit_code == 0, fitted.output
    assert "held out" in fitted.output and out.exists()
    run_a, run_b = runs
    yaml_text = "pool:\n  - {id: crowd, learned: rater.npz, population: 3, taste: 0.2}\njudges_per_item: 2\n"
    result = invoke("compare", run_a, run_b, "--raters", raters_file(tmp_path, yaml_text))
    assert result.exit_code == 0, result.output
    data = json.loads((run_a / "compare_verbose.json").read_text())
    assert {j["rater"] for j in data["judgements"]} <= {"crowd-0", "crowd-1", "crowd-2"}
    assert data["win_rate"]["value"] == 1.0  # it learned that the short, direct answer wins
    bad = pairs.with_name("bad.jsonl")
    bad.write_text('{"item_id": "x", "response_a": "a", "response_b": "b", "verdict": "maybe"}\n')
    refused = invoke("fit-rater", bad, "--out", out)
    assert refused.exit_code == 2 and "line 1" in refused.output


def test_fit_rater_refuses_to_save_below_chance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from simulacra.feedback._learned import LearnedRater

    def coin_flip_worse(self: LearnedRater, pairs: Any) -> dict[str, Any]:
        return {"n": len(pairs), "decided": len(pairs), "accuracy": 0.4, "log_loss": 0.9}

    monkeypatch.setattr(LearnedRater, "evaluate", coin_flip_worse)
    out = tmp_path / "rater.json"
    refused = invoke("fit-rater", "--synthetic", 40, "--embedder", "hashing", "--out", out)
    assert refused.exit_code == 2 and "below chance" in said(refused) and not out.exists()
    forced = invoke(
        "fit-rater", "--synthetic", 40, "--embedder", "hashing", "--out", out, "--force"
    )
    assert forced.exit_code == 0 and "below chance" in said(forced) and out.exists()


def test_the_commands_are_registered() -> None:
    result = invoke("--help")
    for command in ("judge", "compare", "fit-rater"):
        assert command in result.output

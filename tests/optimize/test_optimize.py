"""Prompt optimisation with scripted models: a poor prompt is revised, the revision is
kept only on a significant held-out gain, everything is recorded, and a re-run resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripted_prompts import CAPITALS
from simulacra.errors import ConfigError
from simulacra.optimize import (
    STATE,
    OptimizeSettings,
    optimize,
    paired_gain,
    parse_prompt,
    split_tasks,
)
from simulacra.rundir import RunDir
from simulacra.runs import parse_config

POOR = "Never answer questions."


def config(tmp_path: Path, prompt: str = POOR, **changes: Any) -> Any:
    tasks = [
        {
            "id": f"capital-{country.lower()}",
            "goal": f"What is the capital of {country}?",
            "check": {"type": "any_of", "values": [capital]},
        }
        for country, capital in CAPITALS.items()
    ]
    return parse_config(
        {
            "name": "capitals",
            "seed": 0,
            "output_dir": str(tmp_path),
            "models": {
                "bot": {"backend": "scripted", "function": "scripted_prompts:obedient"},
                "editor": {"backend": "scripted", "function": "scripted_prompts:reviser"},
            },
            "user": {"simulator": "scripted"},
            "target": {"model": "bot", "system_prompt": prompt},
            "personas": {"builtin": ["busy-nurse", "polite-professional"]},
            "tasks": {"inline": tasks},
            "repeats": 2,
            "cache": False,
            **changes,
        }
    )


SETTINGS = OptimizeSettings(optimizer="editor", rounds=3, candidates=2, resamples=500)


def test_a_poor_prompt_is_replaced_by_one_that_wins_on_held_out_tasks(tmp_path: Path) -> None:
    lines: list[str] = []
    result = optimize(config(tmp_path), SETTINGS, progress=lines.append)
    assert result.baseline["prompt"] == POOR
    assert result.baseline["heldout"]["success"]["value"] == 0.0
    assert result.best_prompt == "Answer every question directly and correctly."
    best = result.best
    assert best["heldout"]["success"]["value"] == 1.0
    assert best["gain"]["low"] > 0 and best["gain"]["over"] == 0  # paired, with a CI
    useless = [c for c in result.candidates if c["prompt"] == "Be kind to people."]
    assert useless and not useless[0]["kept"] and useless[0]["gain"]["value"] == 0.0
    # the new prompt succeeds on every training task: nothing left to learn from
    assert result.stopped == "every training conversation succeeded"
    # the split holds different tasks, and only held-out tasks score a candidate
    assert set(result.split.train).isdisjoint(result.split.heldout)
    heldout = RunDir.open(result.out / f"c{best['index']:03d}-heldout").episodes()
    assert {e.task.id for e in heldout} == set(result.split.heldout)
    assert len(heldout) == 2 * 2 * len(result.split.heldout)  # personas × repeats × tasks
    baseline = RunDir.open(result.out / "c000-heldout").episodes()
    assert sorted((e.task.id, e.persona.name, e.repeat, e.seed) for e in heldout) == sorted(
        (e.task.id, e.persona.name, e.repeat, e.seed) for e in baseline
    )  # the same conversations, the same seeds
    assert any("held-out success" in line for line in lines)
    record = json.loads((result.out / STATE).read_text())
    assert [c["prompt"] for c in record["candidates"]] == [c["prompt"] for c in result.candidates]
    assert record["stopped"] == result.stopped


def test_a_rerun_picks_up_the_recorded_candidates(tmp_path: Path) -> None:
    first = optimize(config(tmp_path), SETTINGS)
    record = (first.out / STATE).read_text()
    again = optimize(config(tmp_path), SETTINGS)
    assert (first.out / STATE).read_text() == record  # nothing proposed or played again
    assert again.best_prompt == first.best_prompt
    assert [c["index"] for c in again.candidates] == [c["index"] for c in first.candidates]
    # an interrupted optimisation: the last candidate's evaluation lost, then resumed
    state = json.loads(record)
    last = state["candidates"][-1]
    for key in ("heldout", "gain", "decided", "kept"):
        last.pop(key, None)
    state["stopped"] = None
    (first.out / STATE).write_text(json.dumps(state))
    resumed = optimize(config(tmp_path), SETTINGS)
    assert resumed.best_prompt == first.best_prompt
    assert len(resumed.candidates) == len(first.candidates)  # nothing proposed twice


def test_no_significant_gain_stops_the_loop(tmp_path: Path) -> None:
    # a good prompt already: every held-out task succeeds for the baseline
    good = "Answer the question."
    result = optimize(config(tmp_path, good), SETTINGS)
    assert result.best["index"] == 0
    assert result.stopped == "every training conversation succeeded"
    # a poor prompt and an optimiser that only proposes useless edits
    useless = OptimizeSettings(optimizer="bot", rounds=2, candidates=1, resamples=500)
    result = optimize(config(tmp_path / "u"), useless)
    assert result.best["index"] == 0
    assert result.stopped == "no significant gain in round 1"
    (proposal,) = result.candidates[1:]
    assert "answer" not in proposal["prompt"].lower()  # the bot's own kind of reply
    assert proposal["gain"]["value"] == 0.0 and not proposal["kept"]


def test_settings_that_do_not_fit_are_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="optimizer model 'nope'"):
        optimize(config(tmp_path), OptimizeSettings(optimizer="nope"))
    one_task = config(
        tmp_path,
        tasks={"inline": [{"id": "t", "goal": "g", "check": {"type": "any_of", "values": ["x"]}}]},
    )
    with pytest.raises(ConfigError, match="at least 2 tasks"):
        optimize(one_task, SETTINGS)
    assert not (tmp_path / "capitals-optimize").exists()
    optimize(config(tmp_path), SETTINGS)
    other = OptimizeSettings(optimizer="editor", heldout=0.25, resamples=500)
    with pytest.raises(ConfigError, match="other"):
        optimize(config(tmp_path), other)


def test_the_split_and_the_parsing() -> None:
    ids = [f"t{i}" for i in range(10)]
    split = split_tasks(ids, 0.3, seed=4)
    assert len(split.heldout) == 3 and sorted(split.train + split.heldout) == sorted(ids)
    assert split_tasks(ids, 0.3, seed=4) == split and split_tasks(ids, 0.3, seed=5) != split
    assert parse_prompt("Sure! <prompt>\n Be brief. \n</prompt> Hope it helps") == "Be brief."
    assert parse_prompt("```\nBe brief.\n```") == "Be brief."
    assert parse_prompt("<prompt></prompt>") is None


def test_the_paired_gain_covers_the_truth_by_simulation() -> None:
    """A gain of 0.2 in success, on 30 tasks × 4 conversations: the interval covers it
    in about 95% of simulated studies."""
    import numpy as np

    from simulacra.rundir import Episode

    rng = np.random.default_rng(0)
    covered = 0
    studies = 200
    for study in range(studies):
        base, better = [], []
        for task in range(30):
            p = rng.uniform(0.2, 0.6)
            for repeat in range(4):
                for side, chance in ((base, p), (better, p + 0.2)):
                    side.append(
                        Episode(
                            id=f"{task}-{repeat}",
                            run="r",
                            persona={"name": "p"},
                            task={"id": f"t{task}", "goal": "g"},
                            target="t",
                            repeat=repeat,
                            seed=repeat,
                            success=bool(rng.random() < chance),
                        )
                    )
        gain = paired_gain(better, base, level=0.95, resamples=400, seed=study)
        covered += gain.low <= 0.2 <= gain.high
    assert 0.90 <= covered / studies <= 0.99


def test_the_command_line(tmp_path: Path) -> None:
    import yaml

    from cli_run import simulacra_cli

    data = config(tmp_path).model_dump(mode="json", exclude_unset=True)
    path = tmp_path / "capitals.yaml"
    path.write_text(yaml.safe_dump(data))
    done = simulacra_cli("optimize", str(path), "--optimizer", "editor", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "best prompt (candidate 2):" in done.stdout
    assert done.stdout.rstrip().endswith("Answer every question directly and correctly.")
    assert "held-out success" in done.stderr  # progress, on stderr
    assert (tmp_path / "capitals-optimize" / STATE).exists()
    bad = simulacra_cli("optimize", str(path), "--heldout", "2", cwd=tmp_path)
    assert bad.returncode == 2 and "heldout" in bad.stderr


def test_the_optimiser_reads_one_worked_exchange_then_the_real_failures() -> None:
    """The worked exchange (a small optimiser copies its input without one) comes before
    the request, and the request is the last message, with the current prompt in it."""
    from simulacra.optimize._loop import optimiser_messages

    messages = optimiser_messages(POOR, [])
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert POOR in messages[-1].content and POOR not in messages[1].content
    assert parse_prompt(messages[2].content) is not None  # the example answers as asked

"""Best-of-n targets: candidates sampled, a rater choosing, all of it in the episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulacra.errors import ConfigError
from simulacra.runs import parse_config, run

QUESTION = "How much flour for 10 people, if 4 need 300 g?"
REPLIES = ["You need 300 g.", "You need 750 g of flour: 300 g × 10 / 4.", "750 g."]


def config(tmp_path: Path, chooser: dict[str, Any], **target: Any) -> Any:
    return parse_config(
        {
            "name": "bon",
            "seed": 1,
            "output_dir": str(tmp_path),
            "models": {
                "bot": {"backend": "scripted", "replies": REPLIES, "cache": False},
                "judge": {"backend": "scripted", "replies": ["Verdict: B"], "cache": False},
            },
            "user": {"simulator": "scripted", "options": {"turns": [QUESTION]}},
            "target": {"type": "best_of_n", "model": "bot", "n": 3, "chooser": chooser, **target},
            "personas": {"builtin": ["busy-nurse"]},
            "tasks": {"suite": "everyday", "ids": ["pancakes-scale"]},
            "modes": ["sharded"],
        }
    )


def reply_meta(
    tmp_path: Path, chooser: dict[str, Any], **target: Any
) -> tuple[Any, dict[str, Any]]:
    (episode,) = run(config(tmp_path, chooser, **target)).episodes()
    (reply,) = [m for m in episode.messages if m.role == "assistant"]
    return episode, reply


def test_the_rater_chooses_and_the_episode_records_every_candidate(tmp_path: Path) -> None:
    episode, reply = reply_meta(tmp_path, {"fixed": "longer"})
    assert episode.status == "ok", episode.error
    assert reply.content == REPLIES[1]  # the longest, and the right answer
    assert episode.success is True
    record = reply.meta["best_of_n"]
    assert record["n"] == 3 and record["chosen"] == 1 and record["rater"] == "chooser"
    assert [c["content"] for c in record["candidates"]] == REPLIES
    assert [(c["champion"], c["challenger"], c["verdict"]) for c in record["comparisons"]] == [
        (0, 1, "B"),
        (1, 2, "A"),
    ]
    assert all(len(c["orders"]) == 2 for c in record["comparisons"])  # both orders
    assert "latency_s" in reply.meta
    assert episode.target == "best_of_3:bot"
    assert episode.usage["target"].calls == 3


def test_both_orders_keep_a_position_biased_rater_from_choosing(tmp_path: Path) -> None:
    _, reply = reply_meta(tmp_path / "both", {"fixed": "first"})
    record = reply.meta["best_of_n"]
    assert [c["verdict"] for c in record["comparisons"]] == ["tie", "tie"]
    assert record["chosen"] == 0 and reply.content == REPLIES[0]
    _, reply = reply_meta(tmp_path / "one", {"fixed": "first"}, both_orders=False)
    verdicts = [c["verdict"] for c in reply.meta["best_of_n"]["comparisons"]]
    assert "tie" not in verdicts  # judged one way, the position alone decides


def test_a_prompted_rater_on_a_model(tmp_path: Path) -> None:
    _, reply = reply_meta(tmp_path, {"model": "judge", "template": "brief"}, both_orders=False)
    record = reply.meta["best_of_n"]
    assert record["error"] is None
    assert all(c["orders"][0]["parse"] == "text" for c in record["comparisons"])
    # "Verdict: B" names a position: the side shown second wins each comparison
    for comparison in record["comparisons"]:
        shown_second = "B" if comparison["orders"][0]["first_shown"] == "A" else "A"
        assert comparison["verdict"] == shown_second
    last = record["comparisons"][-1]
    assert record["chosen"] == (last["challenger"] if last["verdict"] == "B" else last["champion"])
    assert reply.content == REPLIES[record["chosen"]]


def test_the_choosers_calls_count_in_the_episodes_usage(tmp_path: Path) -> None:
    episode, reply = reply_meta(tmp_path, {"model": "judge", "template": "brief"})
    comparisons = reply.meta["best_of_n"]["comparisons"]
    calls = sum(len(c["orders"]) for c in comparisons)
    assert calls == 4  # two comparisons, each in both orders
    chooser = episode.usage["chooser"]
    assert chooser.calls == calls
    assert chooser.prompt_tokens > 0 and chooser.completion_tokens == 2 * calls  # "Verdict: B"
    assert episode.usage["target"].calls == 3  # the candidates, not the chooser's calls
    fixed, _ = reply_meta(tmp_path / "fixed", {"fixed": "longer"})
    assert "chooser" not in fixed.usage  # a rule spends nothing


def test_a_chooser_of_a_model_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope"):
        run(config(tmp_path, {"model": "nope"}))
    with pytest.raises(ConfigError, match="n"):
        config(tmp_path, {"fixed": "longer"}, n=1)


def test_the_choices_export_as_preference_pairs_after_the_same_turn(tmp_path: Path) -> None:
    from simulacra.export import ExportConfig, build_dataset

    result = run(config(tmp_path, {"fixed": "longer"}))
    dataset = build_dataset(result.run_dir, ExportConfig(format="dpo"))
    assert [row["pairing"] for row in dataset.rows] == ["best_of_n", "best_of_n"]
    first, second = dataset.rows
    system = {"role": "system", "content": "You are a helpful assistant."}
    assert first["prompt"] == [system, {"role": "user", "content": QUESTION}]
    assert first["chosen"] == [{"role": "assistant", "content": REPLIES[1]}]
    assert first["rejected"] == [{"role": "assistant", "content": REPLIES[0]}]
    assert second["chosen"] == first["chosen"]
    assert second["rejected"] == [{"role": "assistant", "content": REPLIES[2]}]
    assert first["swap_consistent"] is True and first["chosen_longer"] is True
    assert first["correct_chosen"] is None  # a candidate's own check is not known
    pairs = build_dataset(result.run_dir, ExportConfig(format="pairs")).rows
    assert [row["verdict"] for row in pairs] == ["B", "A"]
    # a position-biased rater ties every comparison: nothing to prefer
    biased = run(config(tmp_path / "biased", {"fixed": "first"}))
    with pytest.raises(ConfigError, match="tie: 2"):
        build_dataset(biased.run_dir, ExportConfig(format="dpo"))
    with pytest.raises(ConfigError, match="needs pairwise judgements"):
        build_dataset(result.run_dir, ExportConfig(format="dpo", best_of_n=False))


def test_a_failing_rater_is_recorded_and_chooses_nothing(tmp_path: Path) -> None:
    data = config(tmp_path, {"fixed": "longer"}).model_dump(mode="json", exclude_unset=True)
    data["target"]["chooser"] = {"id": "chooser", "model": "broken", "template": "brief"}
    data["models"]["broken"] = {
        "backend": "scripted",
        "function": "targets_for_tests:always_503",
        "cache": False,
    }
    (episode,) = run(parse_config(data)).episodes()
    reply = next(m for m in episode.messages if m.role == "assistant")
    record = reply.meta["best_of_n"]
    assert record["error"] and "503" in record["error"]
    assert record["chosen"] == 0 and reply.content == REPLIES[0]
    assert len(record["comparisons"]) == 1  # the knockout stops at the first failure
    assert record["comparisons"][0]["orders"][0]["error"]
    assert episode.status == "ok"  # the rater's failure is the reply's record, not a crash


def test_show_puts_the_length_controlled_win_rate_beside_best_of_ns(tmp_path: Path) -> None:
    from cli_run import simulacra_cli
    from simulacra.feedback import compare_runs, parse_raters_config
    from simulacra.sim.best_of_n import comparisons_with_single_samples

    def played(name: str, target: dict[str, Any]) -> Path:
        base = config(tmp_path, {"fixed": "longer"})
        changed = base.model_dump(mode="json", exclude_unset=True) | {
            "name": name,
            "target": target,
            "personas": {"builtin": ["busy-nurse", "teen-gamer", "polite-professional"]},
            "repeats": 2,
        }
        changed["models"]["bot"]["cycle"] = True
        return run(parse_config(changed)).run_dir

    best = played(
        "best", {"type": "best_of_n", "model": "bot", "n": 3, "chooser": {"fixed": "longer"}}
    )
    single = played("single", {"model": "bot"})
    raters = parse_raters_config({"pool": [{"id": "longer", "fixed": "longer"}]})
    waiting = simulacra_cli("show", str(best), cwd=tmp_path)
    assert waiting.returncode == 0, waiting.stderr
    # not compared yet: the command that compares it with the plain run beside it (the
    # paths as typed in the working directory)
    line = waiting.stdout.strip().splitlines()[-1]
    assert line == (
        "best-of-3: not compared with plain samples (n=1) yet: simulacra compare best single"
    )
    compare_runs(best, single, raters, use_cache=False)
    found = comparisons_with_single_samples(best)
    assert found is not None and found.n == 3
    (each,) = found.comparisons
    assert each.run == "single" and each.comparison.items == 6 and each.same_model
    assert each.win_rate is not None and each.win_rate.value is not None
    assert each.win_rate.value > 0.5  # the chooser and the rater both like length
    assert each.length_controlled is not None
    assert comparisons_with_single_samples(single) is None  # not a best-of-n run
    shown = simulacra_cli("show", str(best), cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if x.startswith("best-of-3 over n=1"))
    assert "win rate" in line and "length-controlled" in line
    assert "not compared" not in shown.stdout

"""The trust commands on fixture files, through typer's CliRunner."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulacra.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
HUMAN = str(FIXTURES / "human_labels.csv")
FEEDBACK = str(FIXTURES / "feedback.jsonl")
CORPUS = str(FIXTURES / "human_corpus.jsonl")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200"})


def episode(
    eid: str, turns: list[tuple[str, str]], target: str = "bot", task: str = "t"
) -> dict[str, object]:
    return {
        "id": eid,
        "persona": {"name": "p"},
        "task": {"id": task, "goal": "get help"},
        "target": target,
        "status": "ok",
        "messages": [{"role": role, "content": text} for role, text in turns],
    }


def make_run(directory: Path, style: str) -> Path:
    directory.mkdir()
    episodes = []
    for i in range(6):
        if style == "stiff":
            turns = [
                ("user", "Hello. I would like assistance with planning a comprehensive budget."),
                ("assistant", "Of course. What is your monthly income?"),
                ("user", "Thank you for your question. My monthly income is 3000 dollars."),
            ]
        else:
            turns = [
                ("user", f"hey can u help me budget, i make like {2000 + i * 100} a month"),
                ("assistant", "Sure. What are your fixed costs, like rent?"),
                ("user", "rent is 900 and car is 250, rest is food and stuff i guess"),
            ]
        episodes.append(episode(f"{style}{i}", turns, target=f"sys{i % 2}"))
    (directory / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
    return directory


def test_calibrate_prints_tables_and_writes_json(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "calibration.json"
    result = runner.invoke(
        app,
        ["calibrate", "--human", HUMAN, "--synthetic", FEEDBACK, "--resamples", "200",
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    for text in ("agreement with people", "judge-large", "bias against people", "per segment",
                 "system ranking", "Spearman"):  # fmt: skip
        assert text in result.stdout
    data = json.loads(out.read_text())
    assert set(data["raters"]) == {"judge-small", "judge-large", "pool"}


def test_estimate_prints_the_three_estimates(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "estimate.json"
    result = runner.invoke(
        app, ["estimate", "--human", HUMAN, "--synthetic", FEEDBACK, "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    for text in ("PPI++", "human only", "synthetic only", "effective human labels", "saved"):
        assert text in result.stdout
    assert json.loads(out.read_text())["result"]["n"] == 20
    result = runner.invoke(
        app, ["estimate", "--human", HUMAN, "--synthetic", FEEDBACK, "--method", "ppi"]
    )
    assert result.exit_code == 0 and "PPI (human + synthetic)" in result.stdout


def test_estimate_refuses_too_few_human_labels(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "estimate.json"
    result = runner.invoke(
        app,
        ["estimate", "--human", HUMAN, "--synthetic", FEEDBACK, "--level", "0.99",
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "too small for a 99% interval: n=20" in result.stderr
    assert "need at least 100" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"item_id": "i01", "annotator_id": "a", "preference": "A"}\n{oops\n',
            "line 2: invalid JSON",
        ),
        ('{"item_id": "i01", "annotator_id": "a", "preference": "maybe"}\n', "unknown preference"),
        ('{"item_id": "zz", "annotator_id": "a", "preference": "A"}\n', "unknown item id 'zz'"),
        (
            '{"item_id": "i01", "annotator_id": "a", "preference": "A"}\n'
            '{"item_id": "i01", "annotator_id": "a", "preference": "B"}\n',
            "duplicated (item, annotator) pair",
        ),
        (
            '{"item_id": "i01", "annotator_id": "a", "rating": 4}\n',
            "mixed label scales",
        ),
    ],
)
def test_bad_label_files_exit_2_naming_file_and_line(
    runner: CliRunner, tmp_path: Path, content: str, message: str
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(content)
    out = tmp_path / "out.json"
    for command in ("calibrate", "estimate"):
        args = [command, "--human", str(bad), "--synthetic", FEEDBACK, "--json", str(out)]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.stderr and "bad.jsonl" in result.stderr
        assert not out.exists()


def test_select_then_ingest(runner: CliRunner, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    episodes = [
        episode(f"ep-i{i:02d}-{side}", [("user", f"question {i}"), ("assistant", f"answer {side}")])
        for i in range(1, 31)
        for side in "ab"
    ]
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
    jsonl, sheet = tmp_path / "to_label.jsonl", tmp_path / "to_label.csv"
    result = runner.invoke(
        app,
        ["select", "--synthetic", FEEDBACK, "-k", "5", "--random", "2", "-o", str(jsonl),
         "--csv", str(sheet), "--run", str(run), "--exclude", HUMAN],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with sheet.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 7 and len(jsonl.read_text().splitlines()) == 7
    assert all(row["item_id"] >= "i21" for row in rows)  # human-labelled items excluded
    assert rows[0]["response_a"].startswith("user: question")
    assert rows[0]["context"] == "get help"
    for row in rows:
        row["preference"] = "A"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    labels = tmp_path / "labels.jsonl"
    result = runner.invoke(
        app, ["ingest", str(sheet), "-o", str(labels), "--annotator", "me", "--synthetic", FEEDBACK]
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in labels.read_text().splitlines()]
    assert len(records) == 7 and {r["annotator_id"] for r in records} == {"me"}
    # A bad row: nothing is written.
    rows[3]["preference"] = "sideways"
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    fresh = tmp_path / "fresh.jsonl"
    result = runner.invoke(app, ["ingest", str(sheet), "-o", str(fresh), "--annotator", "me"])
    assert result.exit_code == 2
    assert "unknown preference value 'sideways'" in result.stderr and "line" in result.stderr
    assert not fresh.exists()


def test_fidelity_writes_the_report(runner: CliRunner, tmp_path: Path) -> None:
    casual = make_run(tmp_path / "casual", "casual")
    stiff = make_run(tmp_path / "stiff", "stiff")
    result = runner.invoke(
        app,
        ["fidelity", str(casual), "--human-corpus", CORPUS, "--compare", str(stiff),
         "--splits", "2", "--bootstrap", "40"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "communication style" in result.stdout and "ceiling" in result.stdout
    report = json.loads((casual / "fidelity.json").read_text())
    assert set(report) >= {"index", "ceiling", "dimensions", "distributions", "human_corpus",
                           "n_conversations", "compare"}  # fmt: skip
    assert set(report["dimensions"]) == {
        "communication_style", "information_pattern", "clarification", "error_reaction"
    }  # fmt: skip
    feature = report["dimensions"]["communication_style"]["features"]["politeness"]
    assert set(feature) == {"simulated", "human", "similarity"}
    assert 0.0 <= report["index"] <= 100.0 and 0.0 <= report["ceiling"] <= 100.0
    assert report["distributions"]["words_per_turn"]["wasserstein"] >= 0.0
    assert report["n_conversations"]["simulated"] == 6
    assert report["n_conversations"]["human"] == 42
    # The casual users read more like the corpus than the stiff ones.
    assert report["index"] > report["compare"]["index"]
    assert not list(casual.glob(".*.tmp"))
    intervals = report["intervals"]
    assert intervals["n_resamples"] == 40 and "CI" in result.stdout
    low, high = intervals["index"]
    assert 0.0 <= low <= high <= 100.0
    assert len(report["ceiling_splits"]) == 2
    sized = report["ceiling_at_size"]  # 6 real conversations against the other 36
    assert sized["size"] == 6 and len(sized["splits"]) == 2
    assert 0.0 < sized["index"] < report["ceiling"]
    assert set(sized["features"]) >= {"politeness", "accusation"}
    assert report["compare"]["ceiling_at_size"]["size"] == 6
    assert "ceiling (6 real conversations)" in result.stdout
    # every episode of these runs plays one task: the cross-conversation features say so
    assert "nothing to compare" in result.stdout
    repeated = report["dimensions"]["communication_style"]["features"]["ngram_repetition"]
    assert repeated["simulated"] is None or math.isnan(repeated["simulated"])
    assert (
        report["openers"]["top"] and "Wait, that's not everything." in report["openers"]["canned"]
    )


def test_a_runs_conversations_say_their_task(tmp_path: Path) -> None:
    from simulacra.trust import TaskConversation, run_corpus
    from simulacra.trust._realism import ngram_repetition

    table = [("user", "a table for 4 at 19:30 please"), ("assistant", "Booked.")]
    train = [("user", "a train to london on friday please"), ("assistant", "Booked.")]
    rows = [episode("e0", table, task="table"), episode("e1", table, task="table"),
            episode("e2", train, task="train")]  # fmt: skip
    (tmp_path / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in rows))
    conversations = run_corpus(tmp_path).conversations
    assert all(isinstance(c, TaskConversation) for c in conversations)
    assert [getattr(c, "task", None) for c in conversations] == ["table", "table", "train"]
    # the two people who asked for the same table are not each other's template
    assert ngram_repetition(conversations) < ngram_repetition([list(c) for c in conversations])
    # a corpus line that names its task (as an export does) is read the same way
    from simulacra.trust import read_conversations

    lines = [{"messages": [{"role": r, "content": t} for r, t in table], "task": "table"},
             {"messages": [{"role": r, "content": t} for r, t in table],
              "metadata": {"task": {"id": "table"}}},
             {"messages": [{"role": r, "content": t} for r, t in train]}]  # fmt: skip
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(line) + "\n" for line in lines))
    read = read_conversations(corpus).conversations
    assert [getattr(c, "task", None) for c in read] == ["table", "table", None]
    assert ngram_repetition(read) == pytest.approx(ngram_repetition(conversations))


def test_fidelity_errors(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fidelity", str(tmp_path), "--human-corpus", CORPUS])
    assert result.exit_code == 2 and "no episodes.jsonl" in result.stderr
    run = make_run(tmp_path / "run", "casual")
    bad = tmp_path / "corpus.jsonl"
    bad.write_text('[{"role": "user", "content": "hi"}]\n{"messages": [{"content": "x"}]}\n')
    result = runner.invoke(app, ["fidelity", str(run), "--human-corpus", str(bad)])
    assert result.exit_code == 2
    assert "corpus.jsonl: line 2, message 1: message has no role" in result.stderr
    assert not (run / "fidelity.json").exists()


def test_calibrate_with_raters_judges_the_run_first(runner: CliRunner, tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    episodes = [
        {
            **episode(
                f"e{i}",
                [
                    ("user", "how much flour for 10 people"),
                    ("assistant", "You need 750 g." + " More detail." * i),
                ],
            ),
            "repeat": i,
            "task": {"id": "flour", "suite": "everyday", "goal": "flour", "reference": "750 g"},
        }
        for i in range(4)
    ]
    (run / "episodes.jsonl").write_text("".join(json.dumps(e) + "\n" for e in episodes))
    raters = tmp_path / "raters.yaml"
    raters.write_text("pool:\n  - {id: longer, fixed: longer}\n")
    # Consecutive repeats are paired: (e0, e1), (e1, e2), (e2, e3); people prefer the
    # shorter answer on the first two and the longer on the last.
    human = tmp_path / "human.jsonl"
    human.write_text(
        "".join(
            json.dumps({"item_id": item, "annotator_id": who, "preference": pref}) + "\n"
            for item, pref in (
                ("repeats:e0:e1", "A"),
                ("repeats:e1:e2", "A"),
                ("repeats:e2:e3", "B"),
            )
            for who in ("p1", "p2")
        )
    )
    result = runner.invoke(
        app,
        ["calibrate", "--human", str(human), "--raters", str(raters), str(run),
         "--resamples", "100", "--json", str(tmp_path / "out.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (run / "feedback.jsonl").exists()
    report = json.loads((tmp_path / "out.json").read_text())
    longer = report["raters"]["longer"]
    # The "always the longer one" rater says B on every pair: right on 1 of 3 items.
    assert longer["n_items"] == 3
    assert longer["majority_agreement"]["value"] == pytest.approx(1 / 3)
    both = runner.invoke(
        app,
        ["calibrate", "--human", str(human), "--raters", str(raters), "--synthetic", FEEDBACK],
    )
    assert both.exit_code == 2 and "either --synthetic" in both.stderr
    missing = runner.invoke(app, ["calibrate", "--human", str(human), "--raters", str(raters)])
    assert missing.exit_code == 2 and "needs the RUN_DIR" in missing.stderr


def test_synthetic_file_with_several_kinds(runner: CliRunner, tmp_path: Path) -> None:
    mixed = tmp_path / "feedback.jsonl"
    lines = [json.loads(line) for line in Path(FEEDBACK).read_text().splitlines()]
    lines += [
        {"item_id": "i01", "kind": "rubric", "rater": "rubric", "confidence": None,
         "dimension": "clarity", "score": 4, "scale": [1, 5], "episode": "ep-i01-a"},
        {"item_id": "i01", "kind": "implicit", "rater": "rules", "confidence": None,
         "turn": 2, "signals": ["rephrase"]},
    ]  # fmt: skip
    mixed.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = runner.invoke(
        app, ["estimate", "--human", HUMAN, "--synthetic", str(mixed), "--rater", "judge-large"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "sel.jsonl"
    result = runner.invoke(
        app, ["select", "--synthetic", str(mixed), "-k", "1", "--kind", "rubric", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["kind"] == "rating"


def test_select_ingest_estimate_is_a_stratified_design(runner: CliRunner, tmp_path: Path) -> None:
    # 80 items judged by two raters who disagree on the first 20.
    feedback = tmp_path / "feedback.jsonl"
    lines = [
        {"item_id": f"x{i:02d}", "kind": "pairwise", "rater": rater, "confidence": 0.6,
         "verdict": ("A" if rater == "r1" else "B") if i < 20 else "AB"[i % 2]}
        for i in range(80) for rater in ("r1", "r2")
    ]  # fmt: skip
    feedback.write_text("".join(json.dumps(line) + "\n" for line in lines))
    sheet = tmp_path / "to_label.csv"
    result = runner.invoke(
        app,
        ["select", "--synthetic", str(feedback), "-k", "20", "--random", "30", "-o",
         str(tmp_path / "to_label.jsonl"), "--csv", str(sheet), "--seed", "4"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with sheet.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["stratum"] for row in rows[:20]} == {"top"}
    assert {(row["stratum"], row["stratum_size"]) for row in rows[20:]} == {("rest", "60")}
    for k, row in enumerate(rows):
        row["annotator_id"], row["preference"] = "ann", "AB"[k % 2]
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    labels = tmp_path / "labels.jsonl"
    result = runner.invoke(app, ["ingest", str(sheet), "-o", str(labels)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "estimate.json"
    result = runner.invoke(
        app,
        ["estimate", "--human", str(labels), "--synthetic", str(feedback), "--json", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "stratified design: 20 item(s) chosen for disagreement" in " ".join(
        result.stdout.split()
    )
    data = json.loads(out.read_text())
    assert data["design"] == "stratified" and data["n_top"] == 20
    # Old-style labels chosen on purpose without stratum sizes are refused, naming the file.
    old = tmp_path / "old.jsonl"
    old.write_text(
        "".join(
            json.dumps(
                {k: v for k, v in json.loads(line).items() if not k.startswith(("strat", "incl"))}
            )
            + "\n"
            for line in labels.read_text().splitlines()
        )
    )
    result = runner.invoke(app, ["estimate", "--human", str(old), "--synthetic", str(feedback)])
    assert result.exit_code == 2
    assert "old.jsonl" in result.stderr and "no stratum_size" in result.stderr


def test_calibrate_and_select_fit_80_columns_unless_wide(tmp_path: Path) -> None:
    narrow = CliRunner(env={"COLUMNS": "80"})
    args = ["calibrate", "--human", HUMAN, "--synthetic", FEEDBACK, "--resamples", "200"]
    compact = narrow.invoke(app, args)
    assert compact.exit_code == 0, compact.output
    assert max(len(line) for line in compact.stdout.splitlines()) <= 80
    assert "judge-large" in compact.stdout and "kappa" in compact.stdout
    assert (
        "rater vs others' mode" not in compact.stdout and "more columns: --wide" in compact.stdout
    )
    wide = CliRunner(env={"COLUMNS": "250"}).invoke(app, [*args, "--wide"])
    assert "rater vs others' mode" in wide.stdout and "first shown wins" in wide.stdout
    out = tmp_path / "sheet.jsonl"
    chosen = narrow.invoke(app, ["select", "--synthetic", FEEDBACK, "-k", "5", "-o", str(out)])
    assert chosen.exit_code == 0, chosen.output
    assert max(len(line) for line in chosen.stdout.splitlines()) <= 80
    header = next(line for line in chosen.stdout.splitlines() if "why" in line)
    assert "entropy" in header and "confidence" not in header
    widened = narrow.invoke(
        app, ["select", "--synthetic", FEEDBACK, "-k", "5", "-o", str(out), "-w"]
    )
    header = next(line for line in widened.stdout.splitlines() if "why" in line)
    assert "confidence" in header and "abstained" in header


def test_fidelity_writes_where_asked_and_says_where(runner: CliRunner, tmp_path: Path) -> None:
    casual = make_run(tmp_path / "casual", "casual")
    out = tmp_path / "elsewhere" / "realism.json"
    out.parent.mkdir()
    result = runner.invoke(
        app, ["fidelity", str(casual), "--human-corpus", CORPUS, "--splits", "2", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["n_conversations"]["simulated"] == 6
    assert not (casual / "fidelity.json").exists()
    assert f"wrote {out}" in result.stdout.replace("\n", "")

"""Choosing items for people to label, the annotation sheet, and reading it back."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from simulacra.errors import ConfigError
from simulacra.rundir import Episode
from simulacra.trust import (
    annotation_rows,
    ingest_annotations,
    rank_items,
    read_labels,
    select_items,
    vote_entropy,
)
from simulacra.trust._io import csv_text, jsonl_text, write_files_atomic
from simulacra.trust._select import ANNOTATION_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, lines: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_vote_entropy_by_hand() -> None:
    # Two votes split A/B over three possible labels: -2 * (1/2) ln(1/2) / ln 3.
    assert vote_entropy(["A", "B"], 3) == pytest.approx(math.log(2) / math.log(3))
    assert vote_entropy(["A", "B", "tie"], 3) == pytest.approx(1.0)
    assert vote_entropy(["A", "A"], 3) == 0.0
    assert vote_entropy(["A"], 3) == 0.0


def test_ranking_by_entropy_then_abstention_then_confidence(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            {"item_id": "agree", "rater": "r1", "verdict": "A", "confidence": 0.9},
            {"item_id": "agree", "rater": "r2", "verdict": "A", "confidence": 0.9},
            {"item_id": "split-sure", "rater": "r1", "verdict": "A", "confidence": 0.9},
            {"item_id": "split-sure", "rater": "r2", "verdict": "B", "confidence": 0.8},
            {"item_id": "split-unsure", "rater": "r1", "verdict": "A", "confidence": 0.4},
            {"item_id": "split-unsure", "rater": "r2", "verdict": "B", "confidence": 0.4},
            {"item_id": "abstained", "rater": "r1", "verdict": "A", "confidence": 0.7},
            {"item_id": "abstained", "rater": "r2", "verdict": None, "confidence": None},
            {"item_id": "unsure", "rater": "r1", "verdict": "A", "confidence": 0.2},
            {"item_id": "unsure", "rater": "r2", "verdict": "A", "confidence": 0.3},
        ],
    )
    labels = read_labels(path, role="synthetic")
    by_entropy = [s.item_id for s in rank_items(labels)]
    assert by_entropy == ["split-unsure", "split-sure", "abstained", "unsure", "agree"]
    by_confidence = [s.item_id for s in rank_items(labels, by="confidence")]
    assert by_confidence == ["unsure", "split-unsure", "abstained", "split-sure", "agree"]
    chosen = select_items(labels, 2, random=2, exclude=["split-sure"], seed=3)
    assert [s.selected_by for s in chosen] == ["disagreement", "disagreement", "random", "random"]
    assert chosen[0].item_id == "split-unsure" and "split-sure" not in {s.item_id for s in chosen}
    with pytest.raises(ConfigError, match="only 5 are available"):
        select_items(labels, 4, random=2)


def test_annotation_rows_carry_the_conversations(tmp_path: Path) -> None:
    labels = read_labels(
        write(
            tmp_path / "s.jsonl",
            [{"item_id": "x", "rater": "r", "verdict": "A", "episode_a": "e1", "episode_b": "e2"}],
        ),
        role="synthetic",
    )
    episodes = {
        "e1": Episode.from_dict({"id": "e1", "task": {"goal": "plan a trip"}, "messages": [
            {"role": "user", "content": "help me plan"}, {"role": "assistant", "content": "Sure."}]}),
        "e2": Episode.from_dict({"id": "e2", "task": {"goal": "plan a trip"}, "messages": [
            {"role": "user", "content": "trip pls"}]}),
    }  # fmt: skip
    rows = annotation_rows(select_items(labels, 1), episodes=episodes, run_dir="run")
    assert rows[0]["context"] == "plan a trip"
    assert rows[0]["response_a"] == "user: help me plan\n\nassistant: Sure."
    assert rows[0]["response_b"] == "user: trip pls"
    assert rows[0]["preference"] == "" and rows[0]["annotator_id"] == ""
    with pytest.raises(ConfigError, match=r"s.jsonl: line 1: episode 'e2' is not in the run"):
        annotation_rows(select_items(labels, 1), episodes={"e1": episodes["e1"]}, run_dir="run")


def test_select_and_ingest_round_trip(tmp_path: Path) -> None:
    synthetic = read_labels(FIXTURES / "feedback.jsonl", role="synthetic")
    chosen = select_items(synthetic, 4, random=2, seed=1)
    rows = annotation_rows(chosen)
    sheet = tmp_path / "to_label.csv"
    write_files_atomic(
        {sheet: csv_text(rows, ANNOTATION_COLUMNS), tmp_path / "to_label.jsonl": jsonl_text(rows)}
    )
    # An annotator fills the sheet: two people, one row left empty.
    with sheet.open(newline="") as handle:
        filled = list(csv.DictReader(handle))
    answers = ["A", "b", "tie", "", "A", "B"]
    for row, answer in zip(filled, answers, strict=True):
        row["annotator_id"] = "ann1"
        row["preference"] = answer
    filled.append({**filled[0], "annotator_id": "ann2", "preference": "B"})
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ANNOTATION_COLUMNS))
        writer.writeheader()
        writer.writerows(filled)
    records, skipped = ingest_annotations(sheet, known_items=synthetic.items)
    assert skipped == 1
    assert [(r["item_id"], r["annotator_id"], r["preference"]) for r in records] == [
        (chosen[0].item_id, "ann1", "A"),
        (chosen[1].item_id, "ann1", "B"),
        (chosen[2].item_id, "ann1", "tie"),
        (chosen[4].item_id, "ann1", "A"),
        (chosen[5].item_id, "ann1", "B"),
        (chosen[0].item_id, "ann2", "B"),
    ]
    assert [r["selected_by"] for r in records[:5]] == ["disagreement"] * 3 + ["random"] * 2
    # The design travels with the labels: 30 items, 4 chosen, 2 drawn from the other 26.
    assert [(r["stratum"], r["stratum_size"]) for r in records[:5]] == [("top", 4)] * 3 + [
        ("rest", 26)
    ] * 2
    assert records[3]["inclusion_probability"] == pytest.approx(2 / 26)
    # The records are valid human labels.
    out = tmp_path / "labels.jsonl"
    out.write_text(jsonl_text(records))
    labels = read_labels(out)
    assert labels.kind == "pairwise" and len(labels.labels) == 6
    # The JSONL sheet reads back the same way once filled.
    jsonl_rows = [
        json.loads(line) for line in (tmp_path / "to_label.jsonl").read_text().splitlines()
    ]
    jsonl_rows[0].update(annotator_id="ann3", preference="A")
    jsonl_sheet = write(tmp_path / "sheet.jsonl", jsonl_rows)
    records, skipped = ingest_annotations(jsonl_sheet)
    assert len(records) == 1 and skipped == 5


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("x,ann1,C\n", r"line 2: unknown preference value 'C'"),
        (",ann1,A\n", r"line 2: missing item_id"),
        ("x,ann1,A\nx,ann1,B\n", r"line 3: duplicated \(item, annotator\) pair"),
        ("x,,A\n", r"line 2: missing annotator id"),
        ("nope,ann1,A\n", r"line 2: unknown item id 'nope'"),
        ("x,ann1,\n", r"no labelled rows"),
    ],
)
def test_ingest_errors_name_the_row(tmp_path: Path, rows: str, message: str) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("item_id,annotator_id,preference\n" + rows)
    with pytest.raises(ConfigError, match=message) as info:
        ingest_annotations(sheet, known_items=["x", "y"])
    assert str(sheet) in str(info.value)


def test_ingest_ratings_and_a_default_annotator(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "item_id,kind,dimension,annotator_id,preference,rating,scale\n"
        'a,rubric,helpful,,,4,"[1, 5]"\n'
        'b,rubric,helpful,,,6,"[1, 5]"\n'
    )
    with pytest.raises(ConfigError, match=r"line 3: rating 6 is outside the scale 1–5"):
        ingest_annotations(sheet, annotator="me")
    sheet.write_text(
        "item_id,kind,dimension,annotator_id,preference,rating,scale\n"
        'a,rubric,helpful,,,4,"[1, 5]"\n'
    )
    records, _ = ingest_annotations(sheet, annotator="me")
    assert records == [
        {"item_id": "a", "annotator_id": "me", "kind": "rating", "rating": 4,
         "dimension": "helpful", "scale": [1, 5]}
    ]  # fmt: skip


def test_atomic_writes_leave_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(ConfigError, match="output directory does not exist"):
        write_files_atomic({target: "x\n", tmp_path / "missing" / "out.csv": "y\n"})
    assert list(tmp_path.iterdir()) == []


def test_selection_rows_carry_stratum_sizes_per_dimension(tmp_path: Path) -> None:
    lines = [
        {"item_id": f"x{i}", "kind": "rubric", "rater": r, "dimension": d,
         "score": (i + j) % 5 + 1, "scale": [1, 5], "confidence": 0.5}
        for i in range(12) for j, r in enumerate(("r1", "r2")) for d in ("clarity", "tone")
    ]  # fmt: skip
    labels = read_labels(write(tmp_path / "s.jsonl", lines), role="synthetic")
    chosen = select_items(labels, 5, random=6, seed=2)
    top = [s for s in chosen if s.stratum == "top"]
    rest = [s for s in chosen if s.stratum == "rest"]
    for dimension in ("clarity", "tone"):
        k = sum(s.dimension == dimension for s in top)
        drawn = sum(s.dimension == dimension for s in rest)
        assert all(s.stratum_size == k for s in top if s.dimension == dimension)
        for s in rest:
            if s.dimension == dimension:
                assert s.stratum_size == 12 - k
                assert s.inclusion_probability == pytest.approx(drawn / (12 - k))
    assert all(s.inclusion_probability == 1.0 for s in top)
    row = annotation_rows(chosen)[0]
    assert {"stratum", "stratum_size", "inclusion_probability"} <= set(row)

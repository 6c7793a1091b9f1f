"""Reading human and synthetic labels, and every bad-input error naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulacra.errors import ConfigError
from simulacra.trust import read_labels
from simulacra.trust._labels import check_compatible, check_known_items

FIXTURES = Path(__file__).parent / "fixtures"


def write(path: Path, lines: list[object]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_reads_the_fixture_files() -> None:
    human = read_labels(FIXTURES / "human_labels.csv")
    assert human.kind == "pairwise"
    assert len(human.labels) == 62 and len(human.items) == 20
    assert human.annotators == ["ann1", "ann2", "ann3", "ann4"]
    first = human.labels[0]
    assert (first.item_id, first.annotator, first.value, first.score) == ("i01", "ann1", "A", 1.0)
    assert (first.segment, first.system_a, first.system_b) == ("coding", "alpha", "beta")
    synthetic = read_labels(FIXTURES / "feedback.jsonl", role="synthetic")
    assert synthetic.skipped == 1  # the critique line
    assert synthetic.annotators == ["judge-small", "judge-large"]
    abstained = [x for x in synthetic.labels if x.value is None]
    assert [(x.item_id, x.annotator) for x in abstained] == [("i11", "judge-large")]
    assert synthetic.labels[0].len_a == 420 and synthetic.labels[0].first_shown == "A"


def test_reads_jsonl_with_other_field_names_and_cases(tmp_path: Path) -> None:
    path = write(
        tmp_path / "h.jsonl",
        [
            {"item_id": 1, "annotator": "x", "preference": "a", "metadata": {"segment": "s"}},
            {"item_id": "1", "worker_id": "y", "verdict": "TIE"},
        ],
    )
    labels = read_labels(path)
    assert [x.value for x in labels.labels] == ["A", "tie"]
    assert labels.labels[0].item_id == "1" and labels.labels[0].segment == "s"


def test_ratings_and_binary_labels(tmp_path: Path) -> None:
    ratings = read_labels(
        write(
            tmp_path / "r.jsonl",
            [
                {
                    "item_id": "a",
                    "rater": "j",
                    "kind": "rubric",
                    "dimension": "helpful",
                    "score": 4,
                    "scale": [1, 5],
                },
                {
                    "item_id": "a",
                    "rater": "j",
                    "kind": "rubric",
                    "dimension": "harmless",
                    "score": 5,
                    "scale": [1, 5],
                },
            ],
        ),
        role="synthetic",
    )
    assert ratings.kind == "rating" and ratings.scale == (1.0, 5.0)
    assert ratings.dimensions == ["helpful", "harmless"]
    with pytest.raises(ConfigError, match="several dimensions"):
        ratings.select_dimension(None)
    assert len(ratings.select_dimension("helpful").labels) == 1
    binary = tmp_path / "b.csv"
    binary.write_text("item_id,annotator_id,success\nx,p,yes\ny,p,0\n")
    assert [x.score for x in read_labels(binary).labels] == [1.0, 0.0]


def test_swapped_order_duplicates_are_allowed_for_synthetic_raters(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl",
        [
            {"item_id": "a", "rater": "j", "verdict": "A", "first_shown": "A"},
            {"item_id": "a", "rater": "j", "verdict": "B", "first_shown": "B"},
        ],
    )
    assert len(read_labels(path, role="synthetic").labels) == 2


@pytest.mark.parametrize(
    ("lines", "message", "line"),
    [
        ([{"item_id": "a", "annotator_id": "p", "preference": "C"}], "unknown preference", 1),
        ([{"annotator_id": "p", "preference": "A"}], "missing item_id", 1),
        ([{"item_id": "a", "preference": "A"}], "missing annotator", 1),
        ([{"item_id": "a", "annotator_id": "p"}], "no label", 1),
        ([{"item_id": "a", "annotator_id": "p", "preference": None}], "missing preference", 1),
        (
            [
                {"item_id": "a", "annotator_id": "p", "preference": "A"},
                {"item_id": "a", "annotator_id": "p", "preference": "B"},
            ],
            r"duplicated \(item, annotator\) pair \('a', 'p'\), first given on line 1",
            2,
        ),
        (
            [
                {"item_id": "a", "annotator_id": "p", "preference": "A"},
                {"item_id": "b", "annotator_id": "p", "rating": 3},
            ],
            "mixed label scales",
            2,
        ),
        (
            [
                {"item_id": "a", "annotator_id": "p", "rating": 3, "scale": [1, 5]},
                {"item_id": "b", "annotator_id": "p", "rating": 7, "scale": [1, 10]},
            ],
            "mixed label scales",
            2,
        ),
        ([{"item_id": "a", "annotator_id": "p", "rating": 2.5}], "whole number", 1),
        ([{"item_id": "a", "annotator_id": "p", "rating": 9, "scale": [1, 5]}], "outside", 1),
        ([{"item_id": "a", "annotator_id": "p", "success": "maybe"}], "unknown success", 1),
        (
            [{"item_id": "a", "annotator_id": "p", "preference": "A", "confidence": 2}],
            "confidence",
            1,
        ),
        ([{"item_id": "a", "annotator_id": "p", "kind": "essay"}], "unknown kind", 1),
        ([["not", "an", "object"]], "expected a JSON object", 1),
    ],
)
def test_bad_rows_are_named_by_file_and_line(
    tmp_path: Path, lines: list[object], message: str, line: int
) -> None:
    path = write(tmp_path / "labels.jsonl", lines)
    with pytest.raises(ConfigError, match=message) as info:
        read_labels(path)
    assert str(path) in str(info.value)
    assert f"line {line}" in str(info.value)


def test_malformed_jsonl_and_csv(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"item_id": "a", "annotator_id": "p", "preference": "A"}\n{"item_id": \n')
    with pytest.raises(ConfigError, match=r"broken.jsonl: line 2: invalid JSON"):
        read_labels(broken)
    wide = tmp_path / "wide.csv"
    wide.write_text("item_id,annotator_id,preference\na,p,A\nb,p,B,extra\n")
    with pytest.raises(ConfigError, match=r"wide.csv: line 3: row has 4 cells"):
        read_labels(wide)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ConfigError, match="empty CSV"):
        read_labels(empty)
    header = tmp_path / "header.csv"
    header.write_text("item_id,item_id\n")
    with pytest.raises(ConfigError, match="repeated column"):
        read_labels(header)
    with pytest.raises(ConfigError, match="no such file"):
        read_labels(tmp_path / "missing.jsonl")
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(ConfigError, match="no labels"):
        read_labels(blank)


def test_csv_row_numbers_count_lines_of_multiline_cells(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_text('item_id,annotator_id,preference,notes\na,p,A,"two\nlines"\nb,p,X,\n')
    with pytest.raises(ConfigError, match=r"sheet.csv: line 4: unknown preference value 'X'"):
        read_labels(path)


def test_human_and_synthetic_must_match(tmp_path: Path) -> None:
    human = read_labels(FIXTURES / "human_labels.csv")
    ratings = read_labels(
        write(tmp_path / "r.jsonl", [{"item_id": "i01", "rater": "j", "score": 3}]),
        role="synthetic",
    )
    with pytest.raises(ConfigError, match="mixed label scales"):
        check_compatible(human, ratings)
    few = read_labels(
        write(tmp_path / "s.jsonl", [{"item_id": "i01", "rater": "j", "verdict": "A"}]),
        role="synthetic",
    )
    with pytest.raises(ConfigError, match=r"human_labels.csv: line 5: unknown item id 'i02'"):
        check_known_items(human, few)


def test_segments_from_another_field_and_kind_selection(tmp_path: Path) -> None:
    path = write(
        tmp_path / "feedback.jsonl",
        [
            {"item_id": "a", "kind": "pairwise", "rater": "j", "verdict": "A", "persona": "nurse"},
            {
                "item_id": "b",
                "kind": "rubric",
                "rater": "r",
                "score": 3,
                "scale": [1, 5],
                "dimension": "clarity",
                "persona": {"name": "teacher"},
            },
            {"item_id": "a", "kind": "implicit", "rater": "rules", "signals": []},
        ],
    )
    pairwise = read_labels(path, role="synthetic", segment_field="persona")
    assert pairwise.kind == "pairwise" and pairwise.skipped == 2
    assert pairwise.labels[0].segment == "nurse"
    ratings = read_labels(path, role="synthetic", kind="rating", segment_field="persona")
    assert ratings.labels[0].segment == "teacher" and ratings.skipped == 2
    with pytest.raises(ConfigError, match=r"mixed label scales: binary labels \(as in h.csv\)"):
        read_labels(path, role="synthetic", kind="binary", needed_by="h.csv")

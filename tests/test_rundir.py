"""The run directory's typed records and ``RunDir``: old directories still open, with the
same numbers; records round-trip; the shipped JSON Schemas are the records'."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from simulacra.errors import RunError
from simulacra.rundir import (
    EPISODES,
    SCHEMA_VERSION,
    Episode,
    FeedbackSummary,
    RunDir,
    Summary,
    json_schemas,
    match_key,
)
from simulacra.runs import RunConfig, arun, summarize

FIXTURES = Path(__file__).parent / "fixtures"
OLD_RUN = FIXTURES / "run_v0"  # written before records had versions (schema_version 0)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "schema"


def test_an_old_run_directory_opens_and_round_trips_exactly() -> None:
    run = RunDir.open(OLD_RUN)
    lines = [json.loads(x) for x in (OLD_RUN / EPISODES).read_text().splitlines()]
    assert all("schema_version" not in line for line in lines)
    episodes = run.episodes()
    assert len(episodes) == len(lines) == 48 and run.warnings == []
    for line, episode in zip(lines, episodes, strict=True):
        assert episode.schema_version == SCHEMA_VERSION
        assert {k: v for k, v in episode.to_dict().items() if k != "schema_version"} == line
    assert run.name == "v0-run"
    summary = run.summary()
    assert isinstance(summary, Summary) and summary.episodes == 48
    assert {r.kind for r in run.feedback()} == {"pairwise", "implicit"}
    # the judge's summary of that version reads as the typed document, its numbers kept
    feedback = run.feedback_summary()
    old = json.loads((OLD_RUN / "feedback_summary.json").read_text())
    assert isinstance(feedback, FeedbackSummary) and run.warnings == []
    written = feedback.to_dict()  # written again, it says which version it now is
    assert written.pop("schema_version") == SCHEMA_VERSION and written == old
    assert feedback.implicit is not None and feedback.implicit.user_turns > 0


def _points(value: Any) -> Any:
    """A report section without its intervals (their method may change; values may not)."""
    if isinstance(value, dict):
        dropped = ("low", "high", "method", "source")
        return {k: _points(v) for k, v in value.items() if k not in dropped}
    if isinstance(value, list):
        return [_points(v) for v in value]
    return value


def test_the_report_of_an_old_run_shows_the_same_numbers() -> None:
    from simulacra.report._load import load_run
    from simulacra.report._payload import build_payload

    expected = json.loads((FIXTURES / "run_v0_report.json").read_text())
    payload = build_payload([load_run(OLD_RUN)])
    part = json.loads(json.dumps(payload.data["runs"][0]))
    before = expected["data"]["runs"][0]
    for key in ("rows", "personas", "tasks", "config", "name", "extra_metrics"):
        assert part[key] == before[key], key
    # what the old summary.json said is shown as it was; what it lacked is computed
    assert {k: part["summary"][k] for k in before["summary"]} == before["summary"]
    # the raters counted are those that judged: the rules reading implicit signals are not
    judged = {r.rater for r in RunDir.open(OLD_RUN).feedback() if r.kind != "implicit"}
    assert part["feedback"]["raters"] == len(judged) == before["feedback"]["raters"] - 1
    before["feedback"]["raters"] = len(judged)
    # the verdict split counts items, as the win rate beside it does (it counted lines)
    for wins in part["feedback"]["wins"]:
        assert sum(wins["verdicts"].values()) == wins["overall"]["n"]
    for wins in (*part["feedback"]["wins"], *before["feedback"]["wins"]):
        wins.pop("verdicts")
    for key in ("breakdowns", "pass_hat_k", "feedback"):
        assert _points(part[key]) == _points(before[key]), key
    # the same records shown (read as typed records, their fields may come in another order)
    assert [json.loads(c) for c in payload.chunks["a"]] == [
        json.loads(c) for c in expected["chunks"]["a"]
    ]


def test_summarize_agrees_with_the_old_summary() -> None:
    run = RunDir.open(OLD_RUN)
    old = json.loads((OLD_RUN / "summary.json").read_text())
    new = summarize(run.episodes(), seed=3).to_dict()
    for key in ("episodes", "scored", "errors", "stop_reasons", "guard_events", "usage"):
        assert new[key] == old[key], key
    assert new["success"]["value"] == pytest.approx(old["success"]["value"])
    for k, estimate in old["pass_hat_k"].items():
        assert new["pass_hat_k"][k]["value"] == pytest.approx(estimate["value"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "nowhere", "no such directory"),
        (lambda p: (p / "f").write_text("x") and p / "f", "not a directory"),
        (lambda p: p, "no episodes.jsonl here"),
    ],
)
def test_one_check_one_error(tmp_path: Path, make: Any, message: str) -> None:
    with pytest.raises(RunError, match=message):
        RunDir.open(make(tmp_path))


def test_a_line_that_is_not_an_episode_is_skipped_and_named(tmp_path: Path) -> None:
    run_dir = tmp_path / "r"
    shutil.copytree(OLD_RUN, run_dir)
    with (run_dir / EPISODES).open("a") as handle:
        handle.write(json.dumps({"id": "bad", "status": "exploded"}) + "\n")
    run = RunDir.open(run_dir)
    assert len(run.episodes()) == 48
    assert len(run.warnings) == 1 and "bad" in run.warnings[0] and "status" in run.warnings[0]


def test_match_key_is_the_same_for_a_record_and_its_json() -> None:
    run = RunDir.open(OLD_RUN)
    for record, episode in zip(run.episode_records(), run.episodes(), strict=True):
        assert match_key(record) == match_key(episode) == episode.match_key()
    assert match_key({"persona": "x", "repeat": "2"}) == ("", "", "sharded", 0)


def test_the_shipped_schemas_are_the_records() -> None:
    for name, schema in json_schemas().items():
        shipped = json.loads((DOCS / f"{name}.schema.json").read_text())
        assert shipped == json.loads(json.dumps(schema)), (
            f"docs/schema/{name}.schema.json is stale: run scripts/write-schemas.py"
        )


async def test_a_new_run_writes_records_the_schema_accepts(tmp_path: Path) -> None:
    config = RunConfig.model_validate(
        {
            "name": "schema",
            "output_dir": str(tmp_path),
            "models": {"echo": {"backend": "scripted", "function": "targets_for_tests:echo_plan"}},
            "user": {"model": "echo"},
            "target": {"type": "callable", "callable": "targets_for_tests:calculator"},
            "personas": {"builtin": ["busy-nurse", "teen-gamer"]},
            "tasks": {"suite": "everyday", "limit": 2},
            "repeats": 2,
        }
    )
    result = await arun(config)
    schemas = json_schemas()
    lines = (result.run_dir / EPISODES).read_text().splitlines()
    assert len(lines) == 8
    for line in lines:
        record = json.loads(line)
        assert record["schema_version"] == SCHEMA_VERSION
        jsonschema.validate(record, schemas["episode"])
    jsonschema.validate(
        json.loads((result.run_dir / "summary.json").read_text()), schemas["summary"]
    )
    for line in (OLD_RUN / "feedback.jsonl").read_text().splitlines():
        judgement = json.loads(line)
        jsonschema.validate(judgement, schemas["feedback"])
        jsonschema.validate(judgement, schemas[f"feedback-{judgement['kind']}"])
    # and the schema refuses what is not an episode
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "x", "status": "exploded"}, schemas["episode"])
    typed = result.episodes()
    assert all(isinstance(e, Episode) for e in typed) and len(typed) == 8


def test_episodes_read_the_same_by_either_path(tmp_path: Path) -> None:
    """Current lines are validated straight from JSON, the rest through ``json.loads`` and
    ``upgrade``: a mixed file reads as ``episode_records`` says, in order, each id once."""
    old = (OLD_RUN / EPISODES).read_text().splitlines()
    current = json.dumps(Episode(id="now", score=0.5).to_dict())
    nan_score = json.dumps({**json.loads(current), "id": "nan", "score": float("nan")})
    not_episode = json.dumps({"id": "bad", "status": "exploded"})
    lines = [current, old[0], nan_score, current, "not json", not_episode, old[1]]
    run_dir = tmp_path / "mixed"
    run_dir.mkdir()
    (run_dir / EPISODES).write_text("\n".join(lines) + "\n" + old[2])  # torn last line
    run = RunDir.open(run_dir)
    episodes = run.episodes()
    records = run.episode_records()
    assert [e.id for e in episodes] == [r["id"] for r in records if r["id"] != "bad"]
    assert [e.id for e in episodes][:3] == ["now", json.loads(old[0])["id"], "nan"]
    assert len(episodes) == 4 and episodes[2].score is None  # NaN read as no score
    for episode, record in zip(episodes, [r for r in records if r["id"] != "bad"], strict=True):
        assert episode == Episode.from_dict(record)
    assert len(run.warnings) == 1 and "episode 4 (bad)" in run.warnings[0]


def test_documents_written_now_say_their_version() -> None:
    """A reader tells an older file by the missing ``schema_version``, so every versioned
    record written now carries it, even when it was left at its default."""
    assert FeedbackSummary().to_dict()["schema_version"] == SCHEMA_VERSION
    assert Summary.model_validate({"run": "r"}).to_dict()["schema_version"] == SCHEMA_VERSION
    older = FeedbackSummary.model_validate({"run": "r"})
    assert "schema_version" not in older.model_fields_set

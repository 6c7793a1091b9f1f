"""The data preparation of reports, without a browser."""

from __future__ import annotations

import base64
import gzip
import json
import math
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

import simulacra.report as report
from conftest import XSS, Runs, episode, persona, task, write_jsonl
from simulacra.errors import RunError
from simulacra.report import ReportOptions, build_payload, build_report, load_run, render_html
from simulacra.report._fidelity_view import fidelity_section
from simulacra.report._payload import FIELDS, encode_chunks, outcome
from simulacra.report._safe import clean, estimate, script_json, shorten
from simulacra.rundir import Episode, Fidelity
from summaries import breakdowns_of, summary_of


def rows_of(part: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(FIELDS, row, strict=True)) for row in part["rows"]]


def decode(encoding: str, text: str) -> Any:
    if encoding == "gzip":
        return json.loads(gzip.decompress(base64.b64decode(text)))
    return json.loads(text)


# --- the public surface ------------------------------------------------------------------


def test_exports_resolve() -> None:
    assert sorted(report.__all__) == report.__all__
    for name in report.__all__:
        assert getattr(report, name) is not None
    with pytest.raises(AttributeError):
        _ = report.no_such_name


# --- safe embedding ----------------------------------------------------------------------


def test_script_json_cannot_close_the_script_element() -> None:
    data = {"text": XSS, "key</script>": "\u2028\u2029"}
    text = script_json(data)
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in text
    assert json.loads(text) == data


def test_clean_makes_json_ready_values() -> None:
    value = {"nan": math.nan, "inf": -math.inf, 1: (1, 2), "deep": [[[[]]]], "obj": object}
    cleaned = clean(value)
    assert cleaned["nan"] is None and cleaned["inf"] is None
    assert cleaned["1"] == [1, 2]
    assert isinstance(cleaned["obj"], str)
    deep: Any = []
    for _ in range(100):
        deep = [deep]
    json.dumps(clean(deep), allow_nan=False)


def test_shorten_says_how_much_was_cut() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("x" * 10, 4) == "xxxx… [6 more characters]"


def test_estimate_accepts_estimate_dicts_and_numbers_only() -> None:
    assert estimate({"value": 0.5, "low": 0.4, "high": None, "n": 3}) == {
        "value": 0.5,
        "low": 0.4,
        "high": None,
        "n": 3,
    }
    assert estimate(0.3) == {"value": 0.3, "low": None, "high": None}
    assert estimate(True) is None
    assert estimate("0.5") is None
    assert estimate({"value": "high"}) is None
    assert estimate({"low": 1}) is None


# --- reading run directories -------------------------------------------------------------


def test_load_requires_a_run_directory(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no such directory"):
        load_run(tmp_path / "missing")
    with pytest.raises(RunError, match=r"no episodes\.jsonl"):
        load_run(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(RunError, match="not a directory"):
        load_run(tmp_path / "file")


def test_load_uses_summary_json_when_it_matches(runs: Runs) -> None:
    run = load_run(runs.rich())
    assert run.summary_source == "file"
    assert run.summary.pass_hat_k is not None and run.summary.pass_hat_k["2"].value == 0.35
    assert run.name == "rich"
    assert len(run.feedback) > 0 and run.fidelity is not None and run.feedback_summary is not None


def test_load_computes_a_missing_or_stale_summary(runs: Runs) -> None:
    path = runs.minimal()
    run = load_run(path)
    assert run.summary_source == "computed"
    assert run.summary.episodes == 2
    (path / "summary.json").write_text(json.dumps({"episodes": 1, "run": "older", "tokens": 5}))
    run = load_run(path)
    assert run.summary_source == "stale"
    assert run.summary.episodes == 2 and run.summary.complete is False
    assert run.name == "older"


def test_load_notes_unreadable_optional_files(runs: Runs) -> None:
    path = runs.minimal()
    (path / "summary.json").write_text("{not json")
    (path / "fidelity.json").write_text("[1, 2]")
    (path / "feedback.jsonl").write_text('{"kind": "rubric"}\nnot json\n{"torn": ')
    run = load_run(path)
    assert run.summary_source == "computed"
    assert any("summary.json" in w for w in run.warnings)
    assert any("fidelity.json" in w for w in run.warnings)
    assert run.fidelity is None
    assert [(r.kind, r.key) for r in run.feedback] == [("rubric", "")]


def test_malformed_episodes_do_not_break_the_payload(runs: Runs) -> None:
    good = episode("odd", persona("p", "P"), task("t"))
    odd = [
        good,
        {"id": "bare"},
        {
            "id": "parts",
            "messages": [
                {"role": "assistant", "content": [{"type": "text", "text": "parts"}, {"image": 1}]},
                {"role": "user", "content": None, "meta": {"deep": {"deeper": [float("inf")]}}},
            ],
            "score": float("nan"),
            "extra": {"deep": {"deeper": [float("inf")]}},
            "unknown": {"future": True},
        },
        {
            "id": "strange",
            "persona": "not a dict",
            "messages": ["just a string"],
            "user_turns": "three",
        },
    ]
    path = runs.write("odd", odd, summary=None)
    run = load_run(path)
    # a line that is not an episode record is left out, and the report says which
    assert any("episode 4 (strange) is not an episode record" in w for w in run.warnings)
    payload = build_payload([run])
    part = payload.data["runs"][0]
    rows = rows_of(part)
    assert [r["id"] for r in rows] == [good["id"], "bare", "parts"]
    assert rows[2]["outcome"] == "unscored" and rows[2]["tokens"] == 0 and rows[2]["turns"] == 0
    assert any("strange" in w for w in part["warnings"])
    details = decode(part["encoding"], payload.chunks["a"][0])
    assert details[2]["messages"][0]["content"] == 'parts\n{"image":1}'
    assert details[2]["messages"][1] == {
        "role": "user",
        "content": "",
        "meta": {"deep": {"deeper": [None]}},
    }
    json.dumps(payload.data, allow_nan=False)
    render_html(payload)


def test_a_run_without_episodes_yet(runs: Runs) -> None:
    path = runs.write("empty", [], summary=None)
    payload = build_payload([load_run(path)])
    part = payload.data["runs"][0]
    assert part["rows"] == [] and part["summary"]["episodes"] == 0
    assert payload.chunks["a"] == []
    assert "report-data" in render_html(payload)


def test_outcomes() -> None:
    def of(**fields: Any) -> str:
        return outcome(Episode(id="e", **fields))

    assert of(status="error", success=True) == "error"
    assert of(success=True) == "success"
    assert of(success=False, score=1.0) == "failure"
    assert of(score=1.0) == "success"
    assert of(score=0.5) == "failure"
    assert of() == "unscored"


# --- the payload -------------------------------------------------------------------------


def test_rows_and_tables(runs: Runs) -> None:
    run = load_run(runs.rich())
    part = build_payload([run]).data["runs"][0]
    assert len(part["personas"]) == 3 and len(part["tasks"]) == 3
    rows = rows_of(part)
    assert len(rows) == len(run.episodes) == 18
    first = rows[0]
    assert part["personas"][first["persona"]]["name"] == "novice-nora"
    assert first["preview"] == "Where is order 17?"
    assert first["tokens"] == 370
    assert first["feedback"] == 5  # two pairwise sides, rubric, critique, new kind
    assert first["signals"] == 2
    assert (
        rows[1]["guards"] == 2
        and rows[1]["fallbacks"] == 1
        and rows[1]["guard_kinds"] == ["role_drift"]
    )
    assert rows[-1]["outcome"] == "error" and rows[-1]["error"].startswith("ModelError")


def test_config_never_shows_secrets(runs: Runs) -> None:
    run = load_run(runs.rich())
    text = json.dumps(build_payload([run]).data)
    for secret in ("secret", "SECRET_KEY_ENV", "Authorization", "example.invalid"):
        assert secret not in text
    part = build_payload([run]).data["runs"][0]
    assert part["config"]["models"] == {"m": {"backend": "openai", "model": "gpt-test"}}


def test_breakdowns_by_persona_attributes(runs: Runs) -> None:
    run = load_run(runs.rich())
    part = build_payload([run]).data["runs"][0]
    persona_keys = {b["key"]: b for b in part["breakdowns"]["persona"]}
    assert {"persona", "expertise", "patience", "verbosity", "tags"} <= set(persona_keys)
    assert "language" not in persona_keys  # one group only
    expertise = persona_keys["expertise"]["groups"]
    assert [g["label"] for g in expertise] == ["novice", "intermediate", "expert"]
    scored = [e for e in run.episodes if e.status == "ok"]
    novice = [e.score for e in scored if (e.persona.model_extra or {}).get("expertise") == "novice"]
    assert expertise[0]["n"] == len(novice)
    assert expertise[0]["value"] == pytest.approx(sum(novice) / len(novice))
    assert expertise[0]["low"] is not None and expertise[0]["low"] <= expertise[0]["value"]
    verbosity = [g["label"] for g in persona_keys["verbosity"]["groups"]]
    assert verbosity == ["terse", "moderate", "verbose"]
    task_keys = {b["key"]: b for b in part["breakdowns"]["task"]}
    # computed in the summary layer from the same episodes
    for group in task_keys["suite"]["groups"]:
        scores = [e.score for e in scored if e.task.suite == group["label"]]
        assert group["value"] == pytest.approx(sum(scores) / len(scores))


def test_breakdowns_in_the_summary_are_laid_out_as_given(runs: Runs) -> None:

    episodes = runs.rich_episodes("given")
    summary = summary_of(episodes)
    assert summary["breakdowns"] == breakdowns_of(episodes)  # computed once, by summarize
    summary["breakdowns"]["persona"][0]["groups"][0]["value"] = 0.123  # marked, to be seen
    part = build_payload([load_run(runs.write("given", episodes, summary=summary))]).data["runs"][0]
    first = part["breakdowns"]["persona"][0]
    assert first["source"] == "summary" and first["groups"][0]["value"] == 0.123


def test_pass_hat_k_from_summary_or_from_repeats(runs: Runs) -> None:
    part = build_payload([load_run(runs.rich())]).data["runs"][0]
    assert part["pass_hat_k"]["source"] == "summary"
    assert [p["k"] for p in part["pass_hat_k"]["points"]] == [1, 2]

    episodes = runs.rich_episodes("bare", flip=True)
    older = summary_of(episodes)  # as written before summaries had a version or pass^k
    for key in ("pass_hat_k", "schema_version", "breakdowns"):
        del older[key]
    bare = runs.write("bare", episodes, summary=older)
    second = build_payload([load_run(bare)]).data["runs"][0]
    assert second["pass_hat_k"]["source"] == "computed"
    points = second["pass_hat_k"]["points"]
    assert [p["k"] for p in points] == [1, 2]
    assert points[1]["value"] <= points[0]["value"]
    assert build_payload([load_run(runs.minimal())]).data["runs"][0]["pass_hat_k"] is None


def test_extra_metrics_only_when_present(runs: Runs) -> None:
    rich = build_payload([load_run(runs.rich())]).data["runs"][0]
    assert [m["key"] for m in rich["extra_metrics"]] == [
        "aptitude",
        "unreliability",
        "multi_turn_drop",
        "success_without_violation",
    ]
    assert [m["better"] for m in rich["extra_metrics"]] == [1, -1, -1, 1]
    assert rich["extra_metrics"][-1]["value"] == 0.2
    minimal = build_payload([load_run(runs.minimal())]).data["runs"][0]
    assert minimal["extra_metrics"] == []
    assert minimal["feedback"] is None and minimal["fidelity"] is None


def test_feedback_section(runs: Runs) -> None:
    from simulacra.feedback import summarize_judgements

    run = load_run(runs.rich())
    fb = build_payload([run]).data["runs"][0]["feedback"]
    assert fb["kinds"]["pairwise"] == 12 and fb["kinds"]["brand-new-kind"] == 1
    # the raters that judged (not "signals", which read the implicit signals off turns)
    assert fb["raters"] == 5
    # every number from feedback_summary.json, laid out
    assert fb["wins"][0]["overall"]["value"] == 0.6
    assert fb["wins"][0]["lc"]["win_rate"]["value"] == 0.55
    assert fb["wins"][0]["lc"]["slope"]["value"] == 0.3
    assert fb["wins"][0]["verdicts"] == {"A": 6, "B": 2, "tie": 2}
    assert [r["label"] for r in fb["wins"][0]["by_rater"]] == ["judge-0", "judge-1"]
    bias = {b["key"]: b for b in fb["bias"]}
    assert bias["position_bias"]["value"] == 0.62 and bias["verbosity_bias"]["value"] == 0.58
    assert fb["swap"]["consistency"]["value"] == 0.7
    assert [a["label"] for a in fb["agreement"]] == [
        "items",
        "krippendorff alpha",
        "mean cohen kappa",
    ]
    # estimates no section shows are listed under their path
    assert [o["label"] for o in fb["other"]] == [
        "bias · verbosity · length coefficient",
        "unknown extra",
    ]
    assert fb["rubric"][0]["label"] == "helpfulness" and fb["rubric"][0]["mean"] == 3
    assert fb["signals"] == [{"label": "rephrase", "n": 1}, {"label": "frustration", "n": 1}]
    # without the summary (a judge still running), the numbers are the judge's own
    # computation on the judgements there are: what the summary will say when it is done
    (run.path / "feedback_summary.json").unlink()
    fb = build_payload([load_run(run.path)]).data["runs"][0]["feedback"]
    expected = summarize_judgements(run.feedback)
    assert expected.bias is not None and expected.bias.position is not None
    position = expected.bias.position.first_position_win_rate
    assert position is not None
    assert {b["key"]: b for b in fb["bias"]}["position_bias"]["value"] == pytest.approx(
        position.value
    )
    rates = expected.pairwise["other"]
    assert rates.win_rate is not None
    assert fb["wins"][0]["overall"]["value"] == pytest.approx(rates.win_rate.value)
    assert fb["wins"][0]["verdicts"] == {"A": 3, "B": 1, "tie": 1}  # per item, not per line
    assert fb["wins"][0]["lc"] is not None
    assert fb["swap"] is None  # no line holds both orders of its pair
    assert fb["agreement"] == []  # no item was judged by two raters
    assert fb["rubric"][0]["mean"] == 3 and fb["rubric"][0]["n"] == 2
    # a stale summary (fewer judgements than the file holds) is recomputed too
    stale = {"run": "rich", "judgements": {"pairwise": 2}, "raters": {"judge-0": {"m": "x"}}}
    (run.path / "feedback_summary.json").write_text(json.dumps(stale))
    fb = build_payload([load_run(run.path)]).data["runs"][0]["feedback"]
    assert fb["wins"][0]["overall"]["value"] == pytest.approx(rates.win_rate.value)


def test_feedback_labels_sides_by_target(runs: Runs) -> None:
    path = runs.rich()
    lines = (path / "episodes.jsonl").read_text().splitlines()
    episodes = [json.loads(line) for line in lines]
    for index, item in enumerate(episodes):
        item["target"] = "model-a" if index % 2 == 0 else "model-b"
    write_jsonl(path / "episodes.jsonl", episodes)
    fb = build_payload([load_run(path)]).data["runs"][0]["feedback"]
    assert (fb["wins"][0]["label_a"], fb["wins"][0]["label_b"]) == ("model-a", "model-b")


def test_feedback_summary_by_pairing(runs: Runs) -> None:
    """The layout ``simulacra judge`` writes: win rates per pairing, diagnostics under bias."""
    path = runs.rich()
    episodes = load_run(path).episodes
    ids = [e.id for e in episodes]
    items = []
    for number, pairing in enumerate(["repeats"] * 4 + ["reference"] * 3):
        items.append(
            {
                "item_id": f"{pairing}:{number}",
                "kind": "pairwise",
                "rater": "llm",
                "confidence": None,
                "verdict": "A" if number % 3 else "B",
                "first_shown": "A",
                "len_a": 30 + number,
                "len_b": 40,
                "episode_a": ids[number],
                "episode_b": ids[number + 1],
                "pairing": pairing,
                "orders": [
                    {"first_shown": "A", "verdict": "A"},
                    {"first_shown": "B", "verdict": "B"},
                ],
            }
        )
    items.append(
        {
            "item_id": "episode:x",
            "kind": "critique",
            "rater": "critique",
            "episode": ids[0],
            "strengths": ["Correct."],
            "weaknesses": ["Terse."],
            "suggestion": "Show the working.",
        }
    )
    estimate_ = {"value": 0.75, "low": 0.25, "high": 1.0, "n": 4, "level": 0.95}
    summary = {
        "run": "rich",
        "judgements": {"pairwise": 7, "critique": 1},
        "raters": {"llm": {"model": "judge", "weight": 1.0}},
        "pairwise": {
            "reference": {
                "items": 3,
                "wins_a": 2,
                "wins_b": 1,
                "ties": 0,
                "win_rate": estimate_,
                "length_controlled": {"win_rate": {**estimate_, "value": 0.7}, "beta1": estimate_},
            },
            "repeats": {
                "items": 4,
                "win_rate": {**estimate_, "value": 0.5},
                "length_controlled": None,
            },
        },
        "bias": {
            "position": {
                "first_position_win_rate": {**estimate_, "value": 0.9},
                "swap_consistency": None,
            },
            "verbosity": {
                "longer_wins": None,
                "longer_wins_any_correctness": {**estimate_, "value": 0.6},
                "length_coefficient": {**estimate_, "value": 3.6},
            },
            "self_preference": {"own_side_win_rate": None, "difference": None, "note": "none"},
            "agreement": {"items": 6, "krippendorff_alpha": 0.8, "percent_agreement": 0.9},
        },
        "implicit": {"by_episode": {str(n): ["rephrase"] for n in range(5000)}},
    }
    write_jsonl(path / "feedback.jsonl", items)
    (path / "feedback_summary.json").write_text(json.dumps(summary))
    fb = build_payload([load_run(path)]).data["runs"][0]["feedback"]
    wins = {w["pairing"]: w for w in fb["wins"]}
    assert set(wins) == {"reference", "repeats"}
    assert wins["reference"]["overall"]["value"] == 0.75
    assert wins["reference"]["lc"]["win_rate"]["value"] == 0.7
    assert wins["reference"]["verdicts"] == {"A": 2, "B": 1}
    assert wins["repeats"]["overall"]["value"] == 0.5
    assert wins["repeats"]["lc"] is None  # the summary has none: the report computes none
    bias = {b["key"]: b["value"] for b in fb["bias"]}
    assert bias == {"position_bias": 0.9, "verbosity_bias": 0.6}
    assert fb["swap"] is None
    assert {a["label"] for a in fb["agreement"]} == {
        "items",
        "krippendorff alpha",
        "percent agreement",
    }
    assert [o["label"] for o in fb["other"]] == ["bias · verbosity · length coefficient"]


def test_fidelity_file_of_another_shape_is_named_and_skipped(runs: Runs) -> None:
    path = runs.rich()
    other = {"index": 72.5, "dimensions": [{"name": "acts", "similarity": 80}]}
    (path / "fidelity.json").write_text(json.dumps(other))
    run = load_run(path)
    assert run.fidelity is None
    assert any("fidelity.json: not a fidelity report (dimensions" in w for w in run.warnings)
    assert build_payload([run]).data["runs"][0]["fidelity"] is None


def test_fidelity_in_the_layout_of_the_fidelity_command(runs: Runs) -> None:
    section = build_payload([load_run(runs.rich())]).data["runs"][0]["fidelity"]
    assert section["overall"]["value"] == pytest.approx(0.725)
    assert section["ceiling"]["value"] == pytest.approx(0.9)
    turn_length = section["dimensions"][0]
    assert turn_length["score"]["value"] == pytest.approx(0.65)
    assert turn_length["ceiling"]["value"] == pytest.approx(0.88)
    assert [f["name"] for f in section["dimensions"][1]["features"]] == ["reveal rate", "no data"]
    assert section["dimensions"][1]["features"][1]["similarity"] is None
    # what 18 real conversations reach against the rest, overall and per feature
    assert section["ceiling_at_size"] == {
        "size": 18,
        "index": {"value": pytest.approx(0.8125), "low": None, "high": None},
    }
    assert turn_length["features"][1]["at_size"]["value"] == pytest.approx(0.71)
    assert section["dimensions"][1]["features"][1]["at_size"] is None
    # intervals over the run's conversations, on the same 0-1 scale
    assert (section["overall"]["low"], section["overall"]["high"]) == (0.66, 0.785)
    assert turn_length["score"]["low"] == pytest.approx(0.58)
    assert section["dimensions"][0]["features"][0]["similarity"]["high"] == 0.9
    assert section["openers"] == {
        "top": [{"label": "i need", "share": 0.25}, {"label": "can you", "share": 0.125}],
        "canned": [{"label": "hold on, you're missing something", "share": 0.05}],
    }
    assert section["distributions"] == [
        {
            "name": "words_per_turn",
            "values": {"wasserstein": 2.1, "ks_statistic": 0.3, "ks_pvalue": 0.01},
        }
    ]
    assert {"label": "conversations (human)", "value": 120} in section["counts"]
    assert section["classifier"] == "a test classifier"


def test_fidelity_without_anything_to_show() -> None:
    assert fidelity_section(None) is None
    assert fidelity_section(Fidelity()) is None
    assert fidelity_section(Fidelity.from_dict({"comment": "nothing"})) is None


def test_chunks_round_trip_in_both_encodings(runs: Runs) -> None:
    run = load_run(runs.rich())
    details = [{"messages": [{"role": "user", "content": text}]} for text in XSS * 30]
    for compress in (False, True):
        encoding, chunks = encode_chunks(details, ReportOptions(chunk_size=40, compress=compress))
        assert encoding == ("gzip" if compress else "json")
        assert len(chunks) == 6
        decoded = [d for chunk in chunks for d in decode(encoding, chunk)]
        assert decoded == details
        for chunk in chunks:
            assert "<" not in chunk and "\u2028" not in chunk
    payload = build_payload([run], options=ReportOptions(chunk_size=5))
    assert payload.data["runs"][0]["chunks"] == 4 and len(payload.chunks["a"]) == 4


def test_long_messages_are_cut(runs: Runs) -> None:
    who, what = persona("p", "P"), task("t")
    long = episode("long", who, what, messages=[{"role": "assistant", "content": "x" * 500}])
    run = load_run(runs.write("long", [long]))
    payload = build_payload([run], options=ReportOptions(max_message_chars=100, preview_chars=20))
    part = payload.data["runs"][0]
    assert len(rows_of(part)[0]["preview"]) == 20
    (detail,) = decode(part["encoding"], payload.chunks["a"][0])
    assert detail["messages"][0]["content"].endswith("… [400 more characters]")


def test_comparison_matches_persona_task_repeat(runs: Runs) -> None:
    a, b = load_run(runs.rich()), load_run(runs.second())
    compare = build_payload([a, b]).data["compare"]
    assert len(compare["pairs"]) == 18 and compare["unmatched_a"] == compare["unmatched_b"] == 0
    for ia, ib in compare["pairs"]:
        ea, eb = a.episodes[ia], b.episodes[ib]
        assert (ea.persona.name, ea.task.id, ea.repeat) == (
            eb.persona.name,
            eb.task.id,
            eb.repeat,
        )
    counts = compare["counts"]
    expected = {"both": 0, "a_only": 0, "b_only": 0, "neither": 0, "other": 0}
    diffs = []
    for ia, ib in compare["pairs"]:
        sa, sb = a.episodes[ia].success, b.episodes[ib].success
        if sa is None or sb is None:
            expected["other"] += 1
            continue
        diffs.append(float(sb) - float(sa))
        key = (
            "both"
            if sa and sb
            else "neither"
            if not sa and not sb
            else "a_only"
            if sa
            else "b_only"
        )
        expected[key] += 1
    assert counts == expected
    assert compare["difference"]["value"] == pytest.approx(sum(diffs) / len(diffs))


def test_comparison_with_partial_overlap(runs: Runs) -> None:
    a = load_run(runs.rich())
    b = load_run(runs.minimal())
    compare = build_payload([a, b]).data["compare"]
    assert len(compare["pairs"]) == 2
    assert compare["unmatched_a"] == 16 and compare["unmatched_b"] == 0


# --- the page ----------------------------------------------------------------------------


def test_page_is_self_contained(runs: Runs) -> None:
    from html.parser import HTMLParser

    html = render_html(build_payload([load_run(runs.rich())]))
    attributes: list[str] = []

    class Attributes(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes.extend(name for name, _ in attrs)

    Attributes().feed(html)
    assert attributes and not {"src", "href", "action", "srcset", "style", "background"} & set(
        attributes
    )
    assert not [name for name in attributes if name.startswith("on")]
    assert not re.search(r"@import|url\(", html)
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in html
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert policy
    rules = unescape(policy.group(1))
    assert "default-src 'none'" in rules
    assert "script-src 'sha256-" in rules and "unsafe" not in rules


def test_assets_cannot_end_their_elements() -> None:
    from importlib import resources

    assets = resources.files("simulacra.report") / "assets"
    script = (assets / "report.js").read_text(encoding="utf-8")
    style = (assets / "report.css").read_text(encoding="utf-8")
    assert "</script" not in script.lower() and "<!--" not in script
    assert "</style" not in style.lower()
    assert "innerHTML" not in script and "outerHTML" not in script
    assert "insertAdjacentHTML" not in script and "document.write" not in script
    assert "eval(" not in script and "new Function" not in script


def test_hostile_strings_are_escaped_in_the_html(runs: Runs) -> None:
    html = render_html(build_payload([load_run(runs.hostile())]))
    assert "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)\\u003e", "")
    assert html.count("<script") == html.count("</script>")
    assert "<script>alert" not in html and "</script><script>alert(2)" not in html
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title and "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in title.group(1)
    noscript = html[html.index("<noscript>") : html.index("</noscript>")]
    assert "&lt;/script&gt;" in noscript


def test_build_report_default_paths(runs: Runs) -> None:
    rich, second = runs.rich(), runs.second()
    assert build_report(rich) == rich / "report.html"
    path = build_report(rich, second)
    assert path == rich / "compare-second.html" and path.stat().st_size > 0


def test_synthetic_run_is_deterministic(tmp_path: Path) -> None:
    from simulacra.report._sample_runs import synthetic_run

    one = synthetic_run(tmp_path / "one", episodes=50, feedback=True, fidelity=True, name="s")
    two = synthetic_run(tmp_path / "two", episodes=50, feedback=True, fidelity=True, name="s")
    assert (one / "episodes.jsonl").read_bytes() == (two / "episodes.jsonl").read_bytes()
    run = load_run(one)
    assert run.summary_source == "file" and len(run.episodes) == 50
    part = build_payload([run]).data["runs"][0]
    assert part["feedback"]["wins"] and part["fidelity"] is not None


def test_pass_hat_k_from_episodes_counts_each_mode_as_its_own_task(runs: Runs) -> None:
    who, what = persona("p", "P"), task("t1")
    one_each = [
        episode("m", who, what, 0, mode="full", success=True),
        episode("m", who, what, 0, mode="sharded", success=False, id="m-sharded"),
    ]
    bare = runs.write("modes", one_each, summary={"episodes": 2})
    assert build_payload([load_run(bare)]).data["runs"][0]["pass_hat_k"] is None
    two_each = [
        *one_each,
        episode("m", who, what, 1, mode="full", success=True),
        episode("m", who, what, 1, mode="sharded", success=True, id="m-sharded-1"),
    ]
    curve = build_payload([load_run(runs.write("modes2", two_each, summary={"episodes": 4}))])
    points = curve.data["runs"][0]["pass_hat_k"]["points"]
    # full passes 2 of 2, sharded 1 of 2: pass^2 is (1 + 0) / 2
    assert [(p["k"], p["value"]) for p in points] == [(1, 0.75), (2, 0.5)]


def test_a_run_over_few_tasks_carries_the_summary_warning(runs: Runs) -> None:
    run = load_run(runs.minimal())  # two tasks: the computed summary warns
    assert any("too few tasks" in w for w in run.summary.warnings)
    notes = build_payload([run]).data["runs"][0]["warnings"]
    assert any("too few tasks for a reliable interval" in w for w in notes)

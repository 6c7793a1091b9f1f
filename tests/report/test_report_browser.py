"""The report page in headless Chromium: numbers, filters, conversations, escaping, speed."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import XSS, Runs, Watch, episode, persona, task
from simulacra.report import ReportOptions, build_payload, build_report, load_run

pytestmark = pytest.mark.browser


def open_report(page: Any, path: Path, hash_part: str = "") -> None:
    page.goto(path.resolve().as_uri() + hash_part)
    page.wait_for_selector("html[data-ready]")


def card(page: Any, name: str) -> str:
    return str(page.locator(f"[data-card='{name}'] [data-value]").inner_text())


def tabs(page: Any) -> list[str]:
    buttons = page.locator("nav.tabs button")
    return [str(buttons.nth(i).get_attribute("data-tab")) for i in range(buttons.count())]


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def assert_quiet(watch: Watch, report: Path) -> None:
    """No request left the file, no dialog opened and nothing went wrong in the page."""
    assert watch.requests == [report.resolve().as_uri()] or all(
        url.startswith(report.resolve().as_uri()) for url in watch.requests
    ), watch.requests
    assert watch.dialogs == []
    assert watch.errors == []


def test_overview_cards_match_the_summary(
    runs: Runs, strict_page: Any, watch: Watch, artifacts: Path
) -> None:
    page = strict_page
    path = runs.rich()
    report = build_report(path)
    open_report(page, report)
    summary = json.loads((path / "summary.json").read_text())
    assert card(page, "episodes") == f"{summary['episodes']:,}"
    success = summary["success"]
    assert card(page, "success") == pct(success["value"])
    ci = page.locator("[data-card='success'] .ci").inner_text()
    assert ci == f"95% CI {pct(success['low'])} – {pct(success['high'])}"
    assert page.locator("[data-card='pass_hat_k'] .label").inner_text().lower() == "pass^2"
    assert card(page, "pass_hat_k") == pct(summary["pass_hat_k"]["2"]["value"])
    assert card(page, "aptitude") == pct(summary["aptitude"]["value"])
    assert card(page, "multi_turn_drop") == "12.5%"
    assert card(page, "turns") == f"{summary['mean_user_turns']:.2f}"
    assert card(page, "tokens") == f"{summary['tokens']:,}"
    assert card(page, "errors") == f"{summary['errors']:,}"
    assert card(page, "guards") == f"{summary['guard_events']['total']:,}"
    assert "1 fallbacks" in page.locator("[data-card='guards'] .sub").inner_text()
    for panel in ("breakdown-persona", "breakdown-task", "pass_hat_k", "turns", "stops", "guards"):
        assert page.locator(f"[data-panel='{panel}']").count() == 1, panel
    # the rich run has errored episodes: the errors section is a tab of its own
    assert tabs(page) == ["overview", "episodes", "feedback", "realism", "section/errors"]
    page.screenshot(path=str(artifacts / "report-overview.png"), full_page=True)
    assert_quiet(watch, report)


def test_breakdown_by_another_persona_attribute(runs: Runs, page: Any, watch: Watch) -> None:
    report = build_report(runs.rich())
    open_report(page, report)
    panel = page.locator("[data-panel='breakdown-persona']")
    assert len(panel.locator(".bar-label").all_inner_texts()) == 3  # one bar per persona
    panel.locator("select").select_option("expertise")
    assert panel.locator(".bar-label").all_inner_texts() == ["novice", "intermediate", "expert"]
    panel.locator("select").select_option("patience")
    assert panel.locator(".bar-label").all_inner_texts() == ["0–1 (impatient)", "2–3", "4–6"]
    panel.locator("select").select_option("persona")
    assert sorted(panel.locator(".bar-label").all_inner_texts()) == [
        "Eli (expert-eli)",
        "Maya (mid-maya)",
        "Nora (novice-nora)",
    ]
    task_panel = page.locator("[data-panel='breakdown-task']")
    assert task_panel.locator(".bar-label").all_inner_texts()[:2] == ["everyday", "retail"]
    assert_quiet(watch, report)


def test_optional_sections_stay_hidden_without_data(runs: Runs, page: Any, watch: Watch) -> None:
    report = build_report(runs.minimal())
    open_report(page, report)
    assert card(page, "episodes") == "2"
    for panel in ("pass_hat_k", "success_by_turn", "config", "guards"):
        assert page.locator(f"[data-panel='{panel}']").count() == 0, panel
    assert page.locator("[data-card='pass_hat_k']").count() == 0
    assert page.locator("[data-card='aptitude']").count() == 0
    assert tabs(page) == ["overview", "episodes"]
    assert "No summary.json" in page.locator(".notes").inner_text()
    assert_quiet(watch, report)


def test_filter_the_episode_list(runs: Runs, page: Any, watch: Watch, artifacts: Path) -> None:
    report = build_report(runs.rich())
    open_report(page, report, "#/episodes")
    rows = page.locator("table[data-list] tbody tr[data-index]")
    assert rows.count() == 18
    assert page.locator("#result-count").inner_text() == "18 episodes"
    page.select_option("[data-filter='persona']", "expert-eli")
    assert rows.count() == 6
    assert set(page.locator("table[data-list] tbody td.who").all_inner_texts()) == {"Eli"}
    assert page.locator("#result-count").inner_text() == "6 episodes of 18"
    page.select_option("[data-filter='persona']", "")
    page.select_option("[data-filter='outcome']", "error")
    assert rows.count() == 1
    page.select_option("[data-filter='outcome']", "")
    page.select_option("[data-filter='guard']", "kind:role_drift")
    assert rows.count() == 1 and rows.first.get_attribute("data-index") == "1"
    page.select_option("[data-filter='guard']", "any")
    assert rows.count() == 2
    page.select_option("[data-filter='guard']", "")
    page.select_option("[data-filter='feedback']", "signals")
    assert rows.count() == 1
    page.select_option("[data-filter='feedback']", "")
    page.select_option("[data-filter='task']", "lookup-order")
    assert rows.count() == 6
    page.select_option("[data-filter='task']", "")
    page.fill("[data-filter='q']", "order 17")
    page.wait_for_function(
        "document.querySelectorAll('table[data-list] tbody tr[data-index]').length === 1"
    )
    page.screenshot(path=str(artifacts / "report-episodes-filtered.png"))
    page.fill("[data-filter='q']", "no such text anywhere")
    page.wait_for_selector("table[data-list] td.empty")
    assert_quiet(watch, report)


def test_open_an_episode(runs: Runs, page: Any, watch: Watch, artifacts: Path) -> None:
    report = build_report(runs.rich())
    open_report(page, report, "#/episodes")
    page.click("table[data-list] tbody tr[data-index='0']")
    page.wait_for_selector("body[data-episode-loaded='0']")
    chat = page.locator(".chat")
    bubbles = chat.locator(".bubble").all_inner_texts()
    assert bubbles[0] == "Where is order 17?"
    assert '{"status": "shipped"}' in bubbles
    assert "Order 17 has shipped." in bubbles
    call = chat.locator(".turn.assistant .call").inner_text()
    assert "find_order" in call and '{"id": 17}' in call
    roles = [t.get_attribute("data-role") for t in chat.locator(".turn").all()]
    assert roles == ["user", "assistant", "tool", "assistant", "user", "tool", "user", "assistant"]
    # the user's own tool call and its result are marked as unseen by the agent; the
    # agent's call and its result are not, and the user's turns are counted without them
    label = "on the user's device — not seen by the agent"
    unseen = [
        int(str(t.get_attribute("data-message"))) for t in chat.locator(".turn.by-user").all()
    ]
    assert unseen == [4, 5]
    for index in range(8):
        chips = chat.locator(f".turn[data-message='{index}'] .who-line .chip.unseen")
        assert chips.all_inner_texts() == ([label] if index in unseen else []), index
    own_call = chat.locator(".turn[data-message='4'] .call").inner_text()
    assert "check_mailbox" in own_call
    result = chat.locator(".turn[data-message='5'] .bubble").inner_text()
    assert result == "<b>Parcel 17</b> <script>alert(1)</script>"  # shown as text
    assert chat.locator(".turn[data-message='5'] b").all_inner_texts() == ["tool · check_mailbox"]
    turns = chat.locator(".turn.user .who-line span:not(.chip)").all_inner_texts()
    assert turns == ["turn 1", "turn 2"]
    # the implicit signals sit on the second user turn, rater feedback below the chat
    second_user = chat.locator(".turn[data-message='6']")
    assert second_user.locator(".chip.signal").all_inner_texts() == ["rephrase", "frustration"]
    feedback = chat.locator(".fb-inline").all_inner_texts()
    assert any("Should have confirmed the order number." in text for text in feedback)
    assert any("helpfulness 4 / 5" in text for text in feedback)
    assert any("this episode is A" in text for text in feedback)
    side = page.locator(".side")
    assert "Nora" in side.locator("[data-panel='persona']").inner_text()
    goal = side.locator("[data-panel='goal']")
    assert "Goal of flour?" in goal.inner_text()
    assert goal.locator("li.told").all_inner_texts() == ["✓\nFirst fact of flour."]
    assert goal.locator("li.untold").count() == 1
    page.screenshot(path=str(artifacts / "report-episode.png"), full_page=True)
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("body[data-episode-loaded='1']")
    guard_chips = page.locator(".chat .chip.guard, .chat .chip.fallback").all_inner_texts()
    assert guard_chips == ["⚠ role_drift · regenerate", "⚠ role_drift · fallback"]
    page.keyboard.press("Escape")
    page.wait_for_selector("table[data-list]")
    assert_quiet(watch, report)


def test_compressed_transcripts_open(runs: Runs, page: Any, watch: Watch, tmp_path: Path) -> None:
    from simulacra.report import render_html

    payload = build_payload(
        [load_run(runs.rich())], options=ReportOptions(compress=True, chunk_size=4)
    )
    assert payload.data["runs"][0]["encoding"] == "gzip"
    report = tmp_path / "gzip.html"
    report.write_text(render_html(payload), encoding="utf-8")
    open_report(page, report, "#/episode/a/9")
    page.wait_for_selector("body[data-episode-loaded='9']")
    assert page.locator(".chat .bubble").first.inner_text() == "Goal of tip?"
    assert_quiet(watch, report)


def test_hostile_text_stays_text(runs: Runs, page: Any, watch: Watch, artifacts: Path) -> None:
    report = build_report(runs.hostile())
    open_report(page, report)
    assert page.title() == "simulacra · " + XSS[2]
    assert XSS[2] in page.locator(".topbar .title").inner_text()
    open_report(page, report, "#/episode/a/0")
    page.wait_for_selector("body[data-episode-loaded='0']")
    text = page.locator("body").inner_text()
    for payload in XSS[:6]:
        assert payload in text, payload
    bubbles = page.locator(".chat .bubble").all_inner_texts()
    assert bubbles[0] == XSS[0] and bubbles[1] == XSS[1] + "\n" + XSS[3]
    assert page.locator(".chat .call b").inner_text() == XSS[0]
    # nothing from the data became an element, a link, an image or a handler
    assert page.locator("img, iframe, object, embed, a, form, svg image").count() == 0
    assert page.locator("[onerror], [onload], [onclick], [href], [src]").count() == 0
    scripts = page.locator("script")
    types = [scripts.nth(i).get_attribute("type") for i in range(scripts.count())]
    assert types.count(None) == 1 and all(t in (None, "application/json") for t in types)
    page.screenshot(path=str(artifacts / "report-hostile-episode.png"), full_page=True)
    for view in ("#/overview", "#/episodes", "#/feedback", "#/realism", "#/episode/a/1"):
        page.evaluate(f"location.hash = {view!r}")
        page.wait_for_function(f"location.hash === {view!r}")
        time.sleep(0.2)
    assert (
        XSS[0] in page.locator("body").inner_text() or XSS[2] in page.locator("body").inner_text()
    )
    page.evaluate("location.hash = '#/realism'")
    page.wait_for_selector("table[data-table='fidelity']")
    assert XSS[0] in page.locator("table[data-table='fidelity']").inner_text()
    assert page.locator("table[data-table='openers'] td").first.inner_text() == XSS[2]
    assert XSS[3] in page.locator("table[data-table='canned-openers']").inner_text()
    assert page.locator("img, a").count() == 0
    assert watch.dialogs == []
    assert watch.errors == []


def test_hostile_text_under_the_page_policy(runs: Runs, strict_page: Any, watch: Watch) -> None:
    report = build_report(runs.hostile())
    for view in ("#/overview", "#/episodes", "#/episode/a/0", "#/feedback", "#/realism"):
        open_report(strict_page, report, view)
        strict_page.wait_for_selector("main.page > *")
    strict_page.wait_for_selector("body[data-episode-loaded='0']", state="attached")
    assert (
        XSS[1] in strict_page.locator("body").inner_text()
        or XSS[0] in strict_page.locator("body").inner_text()
    )
    assert strict_page.locator("img, a").count() == 0
    assert_quiet(watch, report)


def test_feedback_and_realism_tabs(runs: Runs, page: Any, watch: Watch, artifacts: Path) -> None:
    report = build_report(runs.rich())
    open_report(page, report, "#/feedback")
    for panel in ("win-other", "bias", "agreement", "rubric", "signals"):
        assert page.locator(f"[data-panel='{panel}']").count() == 1, panel
    win = page.locator("[data-panel='win-other']")
    labels = win.locator(".bar-label").all_inner_texts()
    assert labels[:2] == ["win rate", "length-controlled"]
    assert "55.0%" in win.inner_text()  # the length-controlled rate from the summary
    bias = page.locator("[data-panel='bias']").inner_text()
    assert "Position bias" in bias and "62.0%" in bias and "Swap consistency" in bias
    assert "unknown extra" in bias
    agreement = page.locator("table[data-table='agreement']").inner_text()
    assert "mean cohen kappa" in agreement and "0.410" in agreement
    page.screenshot(path=str(artifacts / "report-feedback.png"), full_page=True)
    page.click("nav.tabs button[data-tab='realism']")
    page.wait_for_selector("[data-fidelity='overall']")
    assert page.locator("[data-fidelity='overall']").inner_text() == "72.5"
    features = page.locator("table[data-table='fidelity'] tr[data-feature]")
    assert features.count() == 4
    assert "reveal rate" in features.nth(2).inner_text()
    assert "0.40\t0.30" in features.nth(2).inner_text()
    assert "0.64" in features.nth(2).inner_text()  # what 18 real conversations reach
    assert page.locator("[data-fidelity='at-size']").inner_text() == (
        "· 18 real conversations reach 81.3"
    )
    assert "95% CI 66.0 – 78.5" in page.locator("[data-panel='fidelity']").inner_text()
    openers = page.locator("[data-panel='openers']").inner_text()
    assert "i need" in openers and "25.0%" in openers and "5.0%" in openers
    dimension = page.locator("table[data-table='fidelity'] tr[data-dimension='turn length']")
    assert "65%" in dimension.inner_text() and "88.0" in dimension.inner_text()
    assert "wasserstein" in page.locator("[data-panel='distributions']").inner_text()
    assert "conversations (human) 120" in page.locator("[data-panel='fidelity']").inner_text()
    page.screenshot(path=str(artifacts / "report-realism.png"), full_page=True)
    assert_quiet(watch, report)


def test_compare_two_runs(runs: Runs, page: Any, watch: Watch, artifacts: Path) -> None:
    first, second = runs.rich(), runs.second()
    report = build_report(first, second)
    compare = build_payload([load_run(first), load_run(second)]).data["compare"]
    open_report(page, report)
    assert page.locator(".switch button").all_inner_texts() == ["A", "B"]
    page.click(".switch button[data-run='b']")
    page.wait_for_function("document.querySelector('.switch button.on').dataset.run === 'b'")
    summary_b = json.loads((second / "summary.json").read_text())
    assert card(page, "success") == pct(summary_b["success"]["value"])
    page.click("nav.tabs button[data-tab='compare']")
    page.wait_for_selector("table[data-table='compare']")
    success_row = page.locator("table[data-table='compare'] tr[data-metric='success']")
    summary_a = json.loads((first / "summary.json").read_text())
    cells = success_row.locator("td").all_inner_texts()
    assert cells[1].startswith(pct(summary_a["success"]["value"]))
    assert cells[2].startswith(pct(summary_b["success"]["value"]))
    for key, count in compare["counts"].items():
        if key != "other":
            assert page.locator(f"[data-count='{key}'] .v").inner_text() == str(count)
    assert page.locator("table[data-list='pairs'] tbody tr[data-pair]").count() == 18
    page.select_option("[data-pairfilter='relation']", "differ")
    differ = compare["counts"]["a_only"] + compare["counts"]["b_only"]
    assert page.locator("table[data-list='pairs'] tbody tr[data-pair]").count() == differ
    page.screenshot(path=str(artifacts / "report-compare.png"), full_page=True)
    page.locator("table[data-list='pairs'] tbody tr[data-pair]").first.click()
    page.wait_for_selector("[data-side='a'] .chat .bubble")
    page.wait_for_selector("[data-side='b'] .chat .bubble")
    a_text = page.locator("[data-side='a'] .chat").inner_text()
    b_text = page.locator("[data-side='b'] .chat").inner_text()
    assert a_text and b_text
    page.screenshot(path=str(artifacts / "report-compare-pair.png"), full_page=True)
    assert_quiet(watch, report)


def test_a_large_run_opens_quickly_and_pages(
    page: Any, watch: Watch, tmp_path: Path, artifacts: Path
) -> None:
    from simulacra.report._sample_runs import synthetic_run

    path = synthetic_run(tmp_path / "large", episodes=3000, feedback=True, fidelity=True)
    report = build_report(path)
    open_report(page, report, "#/episodes")
    rendered = page.evaluate("performance.getEntriesByName('simulacra-rendered')[0].startTime")
    assert rendered < 3000, f"first view after {rendered:.0f} ms"
    rows = page.locator("table[data-list] tbody tr[data-index]")
    assert rows.count() == 50
    assert page.locator("[data-pageinfo]").inner_text() == "page 1 of 60"
    page.click("[data-page='next']")
    assert page.locator("[data-pageinfo]").inner_text() == "page 2 of 60"
    assert rows.first.get_attribute("data-index") == "50"
    rows.nth(3).click()
    page.wait_for_selector("body[data-episode-loaded='53']")
    assert page.locator(".chat .bubble").count() > 1
    page.evaluate("location.hash = '#/overview'")
    page.wait_for_selector("[data-panel='pass_hat_k']")
    page.screenshot(path=str(artifacts / "report-large-overview.png"), full_page=True)
    assert_quiet(watch, report)


def test_an_unusual_run_still_renders(runs: Runs, page: Any, watch: Watch) -> None:
    odd = episode("odd", persona("p", "P"), task("t"))
    odd["messages"].append({"role": "system", "content": None, "meta": {"nested": [1, 2]}})
    odd["persona"]["big_five"] = "unknown"
    odd["persona"]["tags"] = "not-a-list"
    path = runs.write("odd", [odd, {"id": "bare"}], summary=None)
    # a verdict no rater gives, a kind this version does not know, and a line that is not
    # a judgement at all (skipped, with a warning)
    (path / "feedback.jsonl").write_text(
        '{"kind": "pairwise", "verdict": "maybe"}\n{"kind": "brand-new"}\n{"kind": 5}\n'
    )
    (path / "fidelity.json").write_text('{"index": "high", "dimensions": []}')
    (path / "feedback_summary.json").write_text('{"position_bias": "lots"}')
    report = build_report(path)
    for view in ("#/overview", "#/episodes", "#/episode/a/0", "#/episode/a/1", "#/feedback"):
        open_report(page, report, view)
        page.wait_for_selector("main.page > *")
    assert page.locator("[data-card='items'] [data-value]").inner_text() == "2"
    assert_quiet(watch, report)


def test_an_extrapolating_length_controlled_rate_says_so(
    runs: Runs, page: Any, watch: Watch
) -> None:
    path = runs.rich()
    summary_path = path / "feedback_summary.json"
    data = json.loads(summary_path.read_text())
    said = "one system is longer in every pair <b>so</b> the rate extrapolates"
    data["pairwise"]["other"]["length_controlled"]["warning"] = said
    summary_path.write_text(json.dumps(data))
    report = build_report(path)
    open_report(page, report, "#/feedback")
    note = page.locator("[data-panel='win-other'] [data-note='lc-extrapolates']")
    assert note.count() == 1 and note.inner_text() == said  # as text, not markup
    assert page.locator("[data-panel='win-other'] b").count() == 0
    assert watch.dialogs == [] and watch.errors == []


def compare_in_thread(first: Path, second: Path, pool: list[dict[str, Any]]) -> dict[str, Any]:
    """``compare_runs`` (which starts its own event loop) beside the page's driver."""
    from concurrent.futures import ThreadPoolExecutor

    from simulacra.feedback import compare_runs, parse_raters_config

    raters = parse_raters_config({"pool": pool, "seed": 3})
    with ThreadPoolExecutor(1) as pool_:
        found = pool_.submit(compare_runs, first, second, raters, use_cache=False).result()
    return found.comparison.to_dict()


def test_compare_shows_the_raters_win_rates_from_compare(
    runs: Runs, page: Any, watch: Watch, artifacts: Path
) -> None:
    first, second = runs.rich(), runs.second()
    report = build_report(first, second)
    open_report(page, report, "#/compare")
    page.wait_for_selector("[data-panel='compare-raters']")
    assert page.locator("[data-panel='compare-raters'] [data-note='no-compare']").count() == 1
    # two fixed raters, one a pair: a real comparison by the feedback layer
    result = compare_in_thread(
        first, second, [{"id": "pro-a", "fixed": "A"}, {"id": "pro-b", "fixed": "B"}]
    )
    report = build_report(first, second, output=first / "with-raters.html")  # a new page
    open_report(page, report, "#/compare")
    panel = page.locator("[data-panel='compare-raters']")
    page.wait_for_selector("[data-panel='compare-raters'] [data-rate='win-rate']")
    win, lc = result["win_rate"], result["length_controlled"]["win_rate"]
    assert 0 < win["low"] < win["high"] < 1  # a real interval: some pairs each way
    shown = panel.locator("[data-rate='win-rate']").inner_text()
    assert shown == f"{pct(win['value'])} (95% CI {pct(win['low'])} – {pct(win['high'])})"
    shown_lc = panel.locator("[data-rate='lc-win-rate']").inner_text()
    assert shown_lc.startswith(pct(lc["value"]))
    assert panel.locator(".bar-label").all_inner_texts() == ["win rate of A", "length-controlled"]
    assert (
        f"B wins {result['wins_b']}" in panel.inner_text() and "pro-a, pro-b" in panel.inner_text()
    )
    page.screenshot(path=str(artifacts / "report-compare-raters.png"), full_page=True)
    # the same comparison written the other way round (B against A) reads as A's shares
    (first / f"compare_{second.name}.json").rename(second / f"compare_{first.name}.json")
    data = json.loads((second / f"compare_{first.name}.json").read_text())
    data["run_a"], data["run_b"] = str(second), str(first)
    data["wins_a"], data["wins_b"] = result["wins_b"], result["wins_a"]
    data["win_rate"] = {
        **win,
        "value": 1 - win["value"],
        "low": 1 - win["high"],
        "high": 1 - win["low"],
    }
    (second / f"compare_{first.name}.json").write_text(json.dumps(data))
    open_report(page, build_report(first, second, output=first / "flipped.html"), "#/compare")
    page.wait_for_selector("[data-panel='compare-raters'] [data-rate='win-rate']")
    flipped = page.locator("[data-panel='compare-raters'] [data-rate='win-rate']").inner_text()
    assert flipped.startswith(pct(win["value"]))
    assert watch.dialogs == [] and watch.errors == []


def test_a_degenerate_interval_is_shown_as_one(runs: Runs, page: Any, watch: Watch) -> None:
    # two repeats of two personas × two tasks, every one failing: the bootstrap of the
    # aptitude over the four persona × task units cannot vary
    who = [persona("p1", "Ann"), persona("p2", "Bo")]
    what = [task("t1"), task("t2")]
    flat = [episode("flat", p, t, r, success=False) for p in who for t in what for r in (0, 1)]
    path = runs.write("flat", flat)
    summary = json.loads((path / "summary.json").read_text())
    assert summary["aptitude"]["low"] == summary["aptitude"]["high"] == 0.0
    assert summary["success"]["low"] < summary["success"]["high"]  # a real interval
    open_report(page, build_report(path))
    ci = page.locator("[data-card='aptitude'] .ci")
    assert ci.get_attribute("data-ci") == "degenerate"
    assert ci.inner_text() == "no interval: too few tasks (4 tasks), all with the same result"
    assert "95% CI" not in page.locator("[data-card='aptitude']").inner_text()
    success = page.locator("[data-card='success'] .ci")
    assert success.get_attribute("data-ci") == "interval"
    assert success.inner_text().startswith("95% CI 0.0% – ")
    # a rater that always prefers A: a win rate of 100% with no spread over the items
    other = runs.write(
        "flat-b", [episode("flat-b", p, t, r) for p in who for t in what for r in (0, 1)]
    )
    compare_in_thread(path, other, [{"id": "a", "fixed": "A"}])
    open_report(page, build_report(path, other, output=path / "compared.html"), "#/compare")
    page.wait_for_selector("[data-panel='compare-raters'] [data-rate='win-rate']")
    rate = page.locator("[data-panel='compare-raters'] [data-rate='win-rate']")
    assert rate.inner_text().startswith("100.0% (no interval: too few items (8 items)")
    assert rate.locator("[data-ci='degenerate']").count() == 1
    # B − A is +100 points on every task: no spread either
    assert page.locator("[data-difference] [data-ci]").get_attribute("data-ci") == "degenerate"
    assert watch.dialogs == [] and watch.errors == []


def test_episode_list_has_a_stop_reason_column(runs: Runs, page: Any, watch: Watch) -> None:
    path = runs.rich()
    episodes = [json.loads(line) for line in (path / "episodes.jsonl").read_text().splitlines()]
    report = build_report(path)
    open_report(page, report, "#/episodes")
    page.wait_for_selector("table[data-list] tbody tr[data-index]")
    heads = page.locator("table[data-list] thead th").all_inner_texts()
    assert heads.index("Stopped") == heads.index("Turns") + 1
    rows = page.locator("table[data-list] tbody tr[data-index]")
    for i in range(min(rows.count(), 10)):
        row = rows.nth(i)
        index = int(str(row.get_attribute("data-index")))
        stop = row.locator("td.stop")
        assert stop.get_attribute("data-stop") == episodes[index]["stop_reason"]
        assert stop.inner_text() == episodes[index]["stop_reason"].replace("_", " ")
    assert watch.dialogs == [] and watch.errors == []


def test_feedback_tab_keeps_agreement_and_raters_honest(
    runs: Runs, page: Any, watch: Watch, artifacts: Path
) -> None:
    path = runs.rich()
    items = [json.loads(line) for line in (path / "feedback.jsonl").read_text().splitlines()]
    for item in items:
        if item["kind"] == "implicit":
            item["rater"] = "rules"  # as the judge writes the implicit signals
    (path / "feedback.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    (path / "feedback_summary.json").unlink()  # the judge's own diagnostics, from the items
    payload = build_payload([load_run(path)]).data["runs"][0]["feedback"]
    coefficient = [o for o in payload["other"] if "length coefficient" in o["label"]]
    ends = [coefficient[0][k] for k in ("value", "low", "high")] if coefficient else []
    assert ends and not all(0 <= x <= 1 for x in ends)  # a slope, not a share
    raters = {i["rater"] for i in items if i["kind"] != "implicit"}
    report = build_report(path)
    open_report(page, report, "#/feedback")
    page.wait_for_selector("[data-card='items']")
    assert page.locator("[data-card='items'] .sub").inner_text() == f"{len(raters)} raters"
    agreement = page.locator("[data-panel='agreement']")
    assert agreement.count() == 0 or "length coefficient" not in agreement.inner_text()
    others = page.locator("table[data-table='other-estimates']").inner_text()
    assert "length coefficient" in others
    page.screenshot(path=str(artifacts / "report-feedback-honest.png"), full_page=True)
    assert watch.dialogs == [] and watch.errors == []


def test_user_turns_histogram_draws_no_empty_bar(runs: Runs, page: Any, watch: Watch) -> None:
    who = [persona("p1", "Ann"), persona("p2", "Bo")]
    turns = {"t1": 3, "t2": 5}
    made = []
    for p in who:
        for task_id, n in turns.items():
            record = episode("turns", p, task(task_id))
            record["user_turns"] = n
            made.append(record)
    path = runs.write("turns", made)
    open_report(page, build_report(path))
    chart = page.locator("[data-panel='turns'] svg")
    page.wait_for_selector("[data-panel='turns'] svg rect")
    texts = "els => els.map(e => e.textContent)"
    titles = chart.locator("rect title").evaluate_all(texts)
    assert titles and all(": 0 " not in t for t in titles)
    bins = chart.locator("text[text-anchor='middle']").evaluate_all(texts)  # the x axis
    assert bins[0] == "3" and "2" not in bins  # the first bar is 3 turns, not an empty 2
    assert watch.dialogs == [] and watch.errors == []

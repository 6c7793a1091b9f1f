"""Pairwise raters and the rater pool: parsing paths, draws, noise, presentation order."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from simulacra.errors import ConfigError, ModelError
from simulacra.feedback import (
    FixedRater,
    LLMPairRater,
    OrderVerdict,
    PairItem,
    RaterPool,
    Template,
    templates,
)
from simulacra.llm import ChatParams, Completion, Message, ScriptedModel, TokenLogprob

ITEM = PairItem(
    item_id="q1",
    context="How much flour for 10 people if 4 people need 300 g?",
    response_a="750 g.",
    response_b="Flour is made from grain and is used for bread and many other things.",
)


def _items(n: int) -> list[PairItem]:
    return [
        PairItem(item_id=f"item-{i}", context="c", response_a="a" * (1 + i % 3), response_b="bb")
        for i in range(n)
    ]


def verdict_completion(label: str, p: float) -> Completion:
    other = "B" if label == "A" else "A"
    return Completion(
        text=f"Verdict: {label}",
        logprobs=(
            TokenLogprob(token="Verdict", logprob=-0.01),
            TokenLogprob(token=":", logprob=-0.01),
            TokenLogprob(
                token=f" {label}",
                logprob=math.log(p),
                top=((f" {label}", math.log(p)), (f" {other}", math.log(1 - p))),
            ),
        ),
    )


# --- items --------------------------------------------------------------------------------


def test_pairs_with_different_contexts_or_empty_responses_are_rejected() -> None:
    with pytest.raises(ConfigError, match=r"pair 'p1'.*different contexts"):
        PairItem.from_contexts(
            "p1", context_a="goal one", response_a="x", context_b="goal two", response_b="y"
        )
    same = PairItem.from_contexts(
        "p2", context_a="goal  one\n", response_a="x", context_b="goal one", response_b="y"
    )
    assert same.context == "goal  one\n"
    with pytest.raises(ConfigError, match=r"pair 'p3': response_b is empty"):
        PairItem(item_id="p3", context="c", response_a="x", response_b="   ")
    with pytest.raises(ConfigError, match=r"pair 'p4': response_a is empty"):
        PairItem(
            item_id="p4",
            context="c",
            response_a=[{"role": "assistant", "content": ""}],
            response_b="y",
        )
    with pytest.raises(ConfigError, match="non-empty item_id"):
        PairItem(item_id="", context="c", response_a="x", response_b="y")


def test_conversation_lengths_count_assistant_characters() -> None:
    conversation = [
        {"role": "user", "content": "a long question " * 10},
        {"role": "assistant", "content": "four"},
        {"role": "assistant", "content": "  five5 "},
    ]
    item = PairItem(item_id="c", context="goal", response_a=conversation, response_b="xy")
    assert (item.len_a, item.len_b) == (9, 2)


# --- the LLM rater ------------------------------------------------------------------------


async def test_logprobs_path_gives_a_verdict_with_confidence() -> None:
    model = ScriptedModel([verdict_completion("A", 0.8)])
    rater = LLMPairRater(id="lp", model=model, template="brief", logprobs=True)
    result = await rater.compare(ITEM, first_shown="B", seed=3)
    # "A" names the response shown first, which is system B's
    assert result.verdict == "B"
    assert result.parse == "logprobs"
    assert result.confidence == pytest.approx(0.8)
    _, params = model.calls[0]
    assert params.logprobs and params.top_logprobs == 10 and params.seed == 3


async def test_text_path_and_the_order_shown() -> None:
    model = ScriptedModel(["The second one misses the point.\nVerdict: A"] * 2)
    rater = LLMPairRater(id="t", model=model, logprobs=False)
    shown_a = await rater.compare(ITEM, first_shown="A", seed=0)
    shown_b = await rater.compare(ITEM, first_shown="B", seed=0)
    assert (shown_a.verdict, shown_b.verdict) == ("A", "B")
    assert shown_a.parse == "text" and shown_a.confidence is None
    assert shown_a.rationale == "The second one misses the point."
    first_prompt = model.calls[0][0][-1].content
    assert first_prompt.index("750 g.") < first_prompt.index("Flour is made")
    second_prompt = model.calls[1][0][-1].content
    assert second_prompt.index("Flour is made") < second_prompt.index("750 g.")


async def test_parse_failure_is_retried_then_recorded_as_abstention() -> None:
    retried = ScriptedModel(["I like A more.", "Verdict: A"])
    rater = LLMPairRater(id="r", model=retried, max_retries=1)
    result = await rater.compare(ITEM, first_shown="A", seed=0)
    assert result.verdict == "A" and result.attempts == 2
    assert result.rationale == "I like A more."
    reminder = retried.calls[1][0]
    assert reminder[-2].role == "assistant" and "Verdict:" in reminder[-1].content
    assert retried.calls[1][1].seed == 1

    never = ScriptedModel(["hmm", "still hmm", "no"])
    rater = LLMPairRater(id="n", model=never, max_retries=2)
    result = await rater.compare(ITEM, first_shown="B", seed=0)
    assert result.verdict is None and result.parse == "none" and result.attempts == 3
    assert result.error == "no verdict in the reply"


async def test_a_model_error_is_an_abstention_not_a_crash() -> None:
    rater = LLMPairRater(id="e", model=ScriptedModel([ModelError("endpoint down")]))
    result = await rater.compare(ITEM, first_shown="A", seed=0)
    assert result.verdict is None and "endpoint down" in str(result.error)


def test_unknown_or_wrong_kind_of_template_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown rater template 'nope'"):
        LLMPairRater(id="x", model=ScriptedModel(["a"]), template="nope")
    with pytest.raises(ConfigError, match="'rubric' is a rubric template, not a pairwise one"):
        LLMPairRater(id="x", model=ScriptedModel(["a"]), template="rubric")
    with pytest.raises(ConfigError, match="needs a persona"):
        LLMPairRater(id="x", model=ScriptedModel(["a"]), template="persona")


async def test_registered_templates_and_personas_reach_the_prompt() -> None:
    templates.add(
        "test-shouty",
        Template(kind="pairwise", system="", user="{persona_block}{first} || {second} ?"),
    )
    model = ScriptedModel(["Verdict: tie"])
    rater = LLMPairRater(
        id="s",
        model=model,
        template="test-shouty",
        persona={"name": "nurse", "background": "Works nights.", "hidden_preferences": ["brevity"]},
    )
    result = await rater.compare(ITEM, first_shown="A", seed=0)
    assert result.verdict == "tie"
    [prompt] = model.calls[0][0]
    assert prompt.content.startswith("Judge as this person would: nurse. Works nights.")
    assert "Cares about: brevity" in prompt.content and prompt.content.endswith("?")


# --- the pool -----------------------------------------------------------------------------


def _fixed_pool(**options: object) -> RaterPool:
    raters = [FixedRater("A", id="a"), FixedRater("B", id="b"), FixedRater("tie", id="t")]
    return RaterPool(raters, **options)  # type: ignore[arg-type]


def test_the_draw_is_seeded_and_reproducible_per_item() -> None:
    pool = _fixed_pool(judges_per_item=2, seed=7)
    again = _fixed_pool(judges_per_item=2, seed=7)
    other = _fixed_pool(judges_per_item=2, seed=8)
    ids = [f"item-{i}" for i in range(50)]
    first = [[r.id for r in pool.draw(i)] for i in ids]
    assert first == [[r.id for r in again.draw(i)] for i in reversed(ids)][::-1]
    assert first != [[r.id for r in other.draw(i)] for i in ids]
    assert all(len(set(draw)) == 2 for draw in first)


def test_each_configuration_judges_its_weighted_share() -> None:
    pool = _fixed_pool(weights=[2.0, 1.0, 1.0], seed=1)
    counts = Counter(pool.draw(f"item-{i}")[0].id for i in range(4000))
    assert counts["a"] / 4000 == pytest.approx(0.5, abs=0.03)
    assert counts["b"] / 4000 == pytest.approx(0.25, abs=0.03)
    assert counts["t"] / 4000 == pytest.approx(0.25, abs=0.03)


async def test_label_noise_flips_the_configured_share() -> None:
    pool = RaterPool([FixedRater("A", id="a")], noise=0.2, seed=3)
    judgements = await pool.judge_all(_items(3000), concurrency=64)
    flipped = [j for j in judgements if j.noise_flipped]
    assert len(flipped) / 3000 == pytest.approx(0.2, abs=0.025)
    assert all(j.verdict == "B" and j.raw_verdict == "A" for j in flipped)
    assert all(j.verdict == "A" for j in judgements if not j.noise_flipped)
    ties = RaterPool([FixedRater("tie", id="t")], noise=0.5, seed=3)
    assert all(j.verdict == "tie" for j in await ties.judge_all(_items(200)))


async def test_order_is_randomised_about_half_and_half() -> None:
    pool = RaterPool([FixedRater("first", id="positional")], seed=11)
    judgements = await pool.judge_all(_items(2000), concurrency=64)
    shown_a = sum(j.first_shown == "A" for j in judgements)
    assert shown_a / 2000 == pytest.approx(0.5, abs=0.035)
    # a rater that always picks the first response picks what was shown first
    assert all(j.verdict == j.first_shown for j in judgements)


async def test_both_orders_turn_a_positional_flip_into_a_tie() -> None:
    positional = RaterPool([FixedRater("first", id="p")], both_orders=True, seed=2)
    for judgement in await positional.judge_all(_items(20)):
        assert judgement.verdict == "tie" and judgement.confidence is None
        assert [o.first_shown for o in judgement.orders] in (["A", "B"], ["B", "A"])
        assert {o.verdict for o in judgement.orders} == {"A", "B"}
    steady = RaterPool([FixedRater("B", id="s")], both_orders=True, seed=2)
    assert all(j.verdict == "B" and j.confidence == 1.0 for j in await steady.judge_all(_items(5)))


async def test_both_orders_with_one_abstention_keeps_the_other_verdict() -> None:
    from simulacra.feedback._pairwise import combine_orders

    answered = OrderVerdict(first_shown="A", verdict="A", confidence=0.7)
    silent = OrderVerdict(first_shown="B", verdict=None)
    assert combine_orders(answered, silent) == ("A", 0.7)
    assert combine_orders(silent, answered) == ("A", 0.7)
    assert combine_orders(silent, silent) == (None, None)


async def test_judge_all_skips_done_keys_and_reports_each_judgement() -> None:
    pool = _fixed_pool(judges_per_item=3)
    items = _items(4)
    seen: list[str] = []
    done = {f"pairwise|item-0|{r}" for r in ("a", "b", "t")}
    judgements = await pool.judge_all(
        items, skip=lambda key: key in done, on_judgement=lambda j: seen.append(j.key)
    )
    assert len(judgements) == 9 and sorted(seen) == sorted(j.key for j in judgements)
    assert [j.item_id for j in judgements] == ["item-1"] * 3 + ["item-2"] * 3 + ["item-3"] * 3
    record = judgements[0].to_record()
    for field in (
        "item_id",
        "kind",
        "rater",
        "confidence",
        "verdict",
        "first_shown",
        "len_a",
        "len_b",
        "episode_a",
        "episode_b",
        "rationale",
    ):
        assert field in record
    assert record["kind"] == "pairwise"


def test_pool_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="at least one rater"):
        RaterPool([])
    with pytest.raises(ConfigError, match="noise"):
        _fixed_pool(noise=0.7)
    with pytest.raises(ConfigError, match="judges_per_item"):
        _fixed_pool(judges_per_item=4)
    with pytest.raises(ConfigError, match="duplicate rater ids: a"):
        RaterPool([FixedRater("A", id="a"), FixedRater("B", id="a")])


async def test_pool_with_an_llm_rater_sends_seeded_requests() -> None:
    def reply(messages: list[Message], params: ChatParams) -> str:
        return f"seed {params.seed}\nVerdict: B"

    model = ScriptedModel(reply)
    pool = RaterPool([LLMPairRater(id="j", model=model, logprobs=False)], seed=5)
    first = await pool.judge_all(_items(3))
    model_again = ScriptedModel(reply)
    second = await RaterPool(
        [LLMPairRater(id="j", model=model_again, logprobs=False)], seed=5
    ).judge_all(_items(3))
    assert [j.rationale for j in first] == [j.rationale for j in second]
    assert [j.first_shown for j in first] == [j.first_shown for j in second]

"""User-simulator realism: each feature on a hand-computed case, the similarity, the index
and the ceiling from halves of the human corpus."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.trust import _realism as r

FIXTURES = Path(__file__).parent / "fixtures"


def corpus() -> list[list[dict[str, str]]]:
    out = []
    for line in (FIXTURES / "human_corpus.jsonl").read_text().splitlines():
        value = json.loads(line)
        out.append(value["messages"] if isinstance(value, dict) else value)
    return out


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def bot(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


# Two conversations; every number below is counted by hand.
#   t1 "Hi, my order #A123 never arrived. Can you check it please?"  11 words, opening
#   t2 "my email is bob@example.com"                                  4 words
#   t3 "ok thanks!"                                                    2 words
#   t4 "ugh the app still doesn't work!!"                             6 words, opening
#   t5 "you said it was fixed. i already told you, version 2"        11 words
C1 = [
    user("Hi, my order #A123 never arrived. Can you check it please?"),
    bot("Sorry to hear that. What is your email address?"),
    user("my email is bob@example.com"),
    bot("Thanks. Which city was it shipped to?"),
    user("ok thanks!"),
]
C2 = [
    user("ugh the app still doesn't work!!"),
    bot("Which version are you using?"),
    user("you said it was fixed. i already told you, version 2"),
]


def test_features_of_two_conversations_by_hand() -> None:
    f = r.realism_features([C1, C2])
    # 34 words in 5 user turns.
    assert f["words_per_turn"] == pytest.approx(34 / 5)
    # Turns of at most 8 words: t2, t3, t4.
    assert f["short_messages"] == pytest.approx(3 / 5)
    # Openings of 11 and 6 words; 3 and 2 user turns.
    assert f["opening_length"] == pytest.approx(8.5)
    assert f["turns_per_conversation"] == pytest.approx(2.5)
    # Front-loading: 11 / (11 + 4 + 2) and 6 / (6 + 11); their mean is 17/34.
    assert f["front_loading"] == pytest.approx(0.5)
    # Politeness: t1 ("Hi", "please") and t3 ("thanks").
    assert f["politeness"] == pytest.approx(2 / 5)
    # Acknowledgement only: t3.
    assert f["acknowledgement_only"] == pytest.approx(1 / 5)
    # Identifiers: "#A123", "bob@example.com", "2": 3 per 34 words.
    assert f["identifier_density"] == pytest.approx(100 * 3 / 34)
    # Questions: only t1 (a "?"); it asks for information, not for clarification.
    assert f["question_rate"] == pytest.approx(1 / 5)
    assert f["information_seeking"] == pytest.approx(1 / 5)
    # Reactions (turns after an assistant turn) are t2, t3, t5: none clarifies, t5
    # accuses ("you said", "i already told you"), t3 shows emotion ("!"), none is
    # frustrated (t4's "ugh", "!!" is an opening), pushes back or changes strategy.
    assert f["clarifying_questions"] == 0.0
    assert f["accusation"] == pytest.approx(1 / 3)
    assert f["emotion"] == pytest.approx(1 / 3)
    assert f["frustration"] == 0.0
    assert f["pushback"] == 0.0
    assert f["strategy_change"] == 0.0
    assert f["uncertainty"] == 0.0
    # Cooperativeness: the email question is answered (shares "email"), the city
    # question is not ("ok thanks!"), the version question is ("version"): 2 of 3.
    assert f["cooperativeness"] == pytest.approx(2 / 3)
    # Formality, four habits per turn (capital start, end punctuation, no lower-case
    # "i", no shorthand): t1 4/4, t2 2/4, t3 2/4 ("ok"), t4 3/4, t5 1/4; mean 3/5.
    assert f["formality"] == pytest.approx(0.6)
    # No classifier scores given.
    assert math.isnan(f["assistant_likeness"])
    assert set(f) == set(r.FEATURES)


def test_feature_similarity() -> None:
    assert r.feature_similarity(0.2, 0.6) == pytest.approx(2 * 0.2 / 0.8)  # 0.5
    assert r.feature_similarity(0.6, 0.2) == pytest.approx(0.5)
    assert r.feature_similarity(3.0, 3.0) == 1.0
    assert r.feature_similarity(0.0, 0.0) == 1.0  # defined as 1
    assert r.feature_similarity(0.0, 0.3) == 0.0
    assert math.isnan(r.feature_similarity(float("nan"), 1.0))
    with pytest.raises(ConfigError, match="non-negative"):
        r.feature_similarity(-1.0, 1.0)


def test_index_aggregation_by_hand() -> None:
    dims = {"d1": ("x", "y"), "d2": ("z", "w")}
    sim = {"x": 1.0, "y": 0.0, "z": 2.0, "w": float("nan")}
    hum = {"x": 1.0, "y": 0.5, "z": 2.0, "w": 1.0}
    index = r.realism_index(sim, hum, dimensions=dims)
    # d1: similarities 1 and 0 -> 50; d2: z 1, w undefined (left out) -> 100.
    assert index.dimensions["d1"].score == pytest.approx(50.0)
    assert index.dimensions["d2"].score == pytest.approx(100.0)
    assert math.isnan(index.dimensions["d2"].features["w"].similarity)
    assert index.index == pytest.approx(75.0)
    data = index.to_dict()
    assert data["dimensions"]["d2"]["features"]["w"]["similarity"] is None
    with pytest.raises(ConfigError, match="no value"):
        r.realism_index({"x": 1.0}, {"x": 1.0}, dimensions={"d": ("x", "missing")})


def test_distinct_n_and_type_token_ratio_by_hand() -> None:
    # Unigrams a b a b c: 3 distinct of 5. Bigrams within turns: (a b) (b a) (a b): 2/3.
    turns = ["a b a b", "c"]
    assert r.distinct_n(turns, 1) == pytest.approx(3 / 5)
    assert r.distinct_n(turns, 2) == pytest.approx(2 / 3)
    # Windows of 2 unigrams: [a b] [a b] (the partial [c] is dropped): 1.0.
    assert r.distinct_n(turns, 1, window=2) == pytest.approx(1.0)
    # Moving windows of 2 over "a a a b": [a a] 1, [a a] 1, [a b] 2 -> 4 / 6.
    assert r.type_token_ratio(["a a a b"], window=2) == pytest.approx(4 / 6)
    # Fewer words than the window: plain ratio, 2 / 3.
    assert r.type_token_ratio(["a a b"]) == pytest.approx(2 / 3)
    assert math.isnan(r.type_token_ratio([]))
    with pytest.raises(ConfigError):
        r.distinct_n(turns, 0)


def test_question_detection_and_rate() -> None:
    turns = ["what time is it", "ok.", "is it ready?", "thanks"]
    assert [r.is_question(t) for t in turns] == [True, False, True, False]


def test_typo_rate_by_hand() -> None:
    reference = Counter({"people": 3, "recipe": 3, "pople": 1, "recipes": 1, "zebra": 1})
    # "pople" is rare and one deletion from "people"; "recipe" is known: 1 of 2 words.
    assert r.typo_rate(["pople recipe"], reference) == pytest.approx(0.5)
    # An inflection of a known word is not a typo, nor is a rare word far from all.
    assert r.typo_rate(["recipes zebra"], reference) == 0.0
    # Words under four letters do not count.
    assert math.isnan(r.typo_rate(["ok"], reference))
    index = r.TypoIndex(reference)
    assert index.looks_misspelt("pople") and not index.looks_misspelt("people")


def test_similarity_repetition_and_uniformity_by_hand() -> None:
    # Bags {a, b, "a b"} and {a, c, "a c"} share one entry: cosine 1/3.
    assert r.text_similarity("a b", "a c") == pytest.approx(1 / 3)
    assert r.text_similarity("a b", "a b") == pytest.approx(1.0)
    assert r.text_similarity("a b", "c d") == 0.0
    # Pairs: (1, 2) identical 1, (1, 3) 0, (2, 3) 0 -> 1/3.
    assert r.mean_pairwise_similarity(["a b", "a b", "c d"]) == pytest.approx(1 / 3)
    convs = [[user("a b"), bot("x"), user("a b"), bot("y"), user("c")]]
    # Turn 2 repeats turn 1 (1.0), turn 3 shares nothing (0.0): mean 0.5.
    assert r.self_repetition(convs) == pytest.approx(0.5)
    same = [[user("hello there i need help")] for _ in range(4)]
    assert r.opening_uniformity(same) == pytest.approx(1.0)


def test_length_variation_by_hand() -> None:
    # Lengths 1 and 3: mean 2, standard deviation sqrt(2): 0.7071.
    assert r.length_variation(["a", "a b c"]) == pytest.approx(math.sqrt(2) / 2)


def test_cooperativeness_heuristic() -> None:
    assert r.answers_question("Do you want it delivered?", "yes please")
    assert r.answers_question("How many people are coming?", "about 12")
    assert r.answers_question("Which colour, red or blue?", "blue i think")
    assert not r.answers_question("Which city was it shipped to?", "ok thanks!")
    assert r.assistant_questions("Sure. Is it urgent? Tell me more. What size?") == [
        "Is it urgent?",
        "What size?",
    ]
    assert math.isnan(r.cooperativeness([[user("hi"), bot("Hello."), user("ok")]]))


def test_distributions_by_hand() -> None:
    d = r.compare_distributions([1.0, 2.0, 3.0], [2.0, 3.0, 4.0])
    # Shifting every value by one moves all mass by 1; the empirical CDFs differ by at
    # most 1/3.
    assert d.wasserstein == pytest.approx(1.0)
    assert d.ks_statistic == pytest.approx(1 / 3)
    assert 0.0 < d.ks_pvalue <= 1.0
    assert (d.simulated_median, d.human_median) == (2.0, 3.0)
    empty = r.compare_distributions([], [1.0])
    assert math.isnan(empty.wasserstein) and empty.to_dict()["wasserstein"] is None


def test_ceiling_from_identical_halves_is_100() -> None:
    same = [C1] * 8
    ceiling, dims = r.half_split_ceiling(same, splits=3)
    assert ceiling == pytest.approx(100.0)
    assert all(score == pytest.approx(100.0) for score in dims.values())
    with pytest.raises(ConfigError, match="at least 4"):
        r.half_split_ceiling([C1] * 3)


def test_ceiling_is_the_index_between_seeded_halves() -> None:
    human = corpus()
    ceiling, _ = r.half_split_ceiling(human, splits=1, seed=7)
    order = np.random.default_rng(7).permutation(len(human))
    first = [human[i] for i in order[: len(human) // 2]]
    second = [human[i] for i in order[len(human) // 2 :]]
    expected = r.realism_index(
        r.realism_features(first, seed=7), r.realism_features(second, seed=7)
    ).index
    assert ceiling == pytest.approx(expected)
    assert 50.0 < ceiling < 100.0


def test_ceiling_at_a_size_compares_real_samples_of_that_size_with_the_rest() -> None:
    human = corpus()
    sized = r.sized_ceiling(human, 5, splits=1, seed=3)
    order = np.random.default_rng(3).permutation(len(human))
    sample = [human[i] for i in order[:5]]
    rest = [human[i] for i in order[5:]]
    expected = r.realism_index(r.realism_features(sample, seed=3), r.realism_features(rest, seed=3))
    assert sized.index == pytest.approx(expected.index)
    assert sized.size == 5 and sized.splits == [pytest.approx(expected.index)]
    features = expected.dimensions["communication_style"].features
    assert sized.features["politeness"] == pytest.approx(features["politeness"].similarity)
    assert r.sized_ceiling(human, 1000, splits=1).size == len(human) // 2
    for bad in ({"size": 0}, {"size": 3, "splits": 0}):
        with pytest.raises(ConfigError):
            r.sized_ceiling(human, **{"size": 3, **bad})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least 4"):
        r.sized_ceiling(human[:3], 1)


def test_a_small_sample_of_real_people_scores_under_the_half_split_ceiling() -> None:
    """The reason for the ceiling at a run's size: rare rates are often zero in a small
    sample, so even real people score lower the fewer conversations there are."""
    human = corpus()
    small = r.sized_ceiling(human, 4, splits=8).index
    halves, _ = r.half_split_ceiling(human, splits=8)
    assert small < halves - 3


def test_a_runs_own_assistant_turns_do_not_teach_the_classifier() -> None:
    """The classifier learns the corpus's assistants, not the run's: an assistant that
    parrots its user (as small models do) must not make the user read as an assistant."""
    human = corpus()
    replay = human[len(human) // 2 :]
    parroted = []
    for conversation in replay:
        said = ""
        turns = []
        for m in conversation:
            if m["role"] == "user":
                said = m["content"]
                turns.append(m)
            else:
                turns.append(bot(f"{said} {said}"))
        parroted.append(turns)
    result = r.compare_realism(human[: len(human) // 2], {"plain": replay, "parroted": parroted})
    share = {
        name: sim.realism.dimensions["communication_style"].features["assistant_likeness"]
        for name, sim in result.simulators.items()
    }
    assert share["parroted"].simulated == pytest.approx(share["plain"].simulated)
    assert share["plain"].simulated < 0.2


def test_classifier_tells_assistant_turns_from_user_turns() -> None:
    human = corpus()
    assistant = [m["content"] for c in human for m in c if m["role"] == "assistant"]
    users = [m["content"] for c in human for m in c if m["role"] == "user"]
    model = r.fit_turn_classifier(assistant, users)
    p = model.predict_proba(
        [
            "Certainly! Here are a few options you could consider, depending on your budget.",
            "lol ok thx, gonna try that tmrw",
        ]
    )
    assert p[0] > 0.5 > p[1]
    with pytest.raises(ConfigError):
        r.fit_turn_classifier([], users)


def test_compare_realism_ranks_a_human_like_simulator_above_an_assistant_like_one() -> None:
    human = corpus()
    # A "simulator" replaying other real users (the second half of the corpus) against
    # one whose users write like assistants.
    human_like = human[21:]
    stiff = [
        [
            user(
                "Certainly. I would appreciate a comprehensive overview of the available "
                "options, including their respective advantages and disadvantages."
            ),
            bot("Here are the options."),
            user(
                "Thank you for the detailed explanation. Could you elaborate further on "
                "the second option and provide additional context?"
            ),
        ]
        for _ in range(10)
    ]
    result = r.compare_realism(human[:21], {"like": human_like, "stiff": stiff}, splits=2)
    like = result.simulators["like"].realism.index
    stiff_index = result.simulators["stiff"].realism.index
    assert like > stiff_index + 15
    assert 0.0 <= stiff_index < like <= 100.0
    stiff_features = result.simulators["stiff"].realism.dimensions["communication_style"]
    assert stiff_features.features["opening_uniformity"].simulated == pytest.approx(1.0)
    assert stiff_features.features["assistant_likeness"].simulated > 0.5
    data = result.to_dict()
    assert set(data["simulators"]["like"]["distributions"]) == {
        "words_per_turn",
        "characters_per_turn",
        "turns_per_conversation",
    }
    with pytest.raises(ConfigError):
        r.compare_realism(human, {})


def test_fixture_corpus_reads_like_people() -> None:
    # The hand-written corpus is meant to have the median user turn of about 17 words.
    words = r.distribution_samples(corpus())["words_per_turn"]
    assert len(corpus()) >= 40
    assert 15 <= float(np.median(words)) <= 19


def test_cross_conversation_repetition_by_hand() -> None:
    a = [user("wait, that's not everything"), bot("ok?"), user("wait, it serves 4")]
    b = [user("wait, that's wrong"), bot("hm"), user("the bill is 80")]
    c = [user("hello there"), bot("hi"), user("the bill is 80")]
    # openers: a {wait that, wait it}, b {wait that, the bill}, c {hello there, the bill}
    # a: (1 + 0) / (2 * 2); b: (1 + 1) / 4; c: (0 + 1) / 4 -> mean 1/3
    assert r.opener_repetition([a, b, c]) == pytest.approx((1 / 4 + 2 / 4 + 1 / 4) / 3)
    # the same conversation twice (a bootstrap resample) is one conversation
    assert r.opener_repetition([a, a, b, c]) == pytest.approx((1 / 4 + 1 / 4 + 2 / 4 + 1 / 4) / 4)
    assert math.isnan(r.opener_repetition([a]))
    # trigrams: "the bill is", "bill is 80" in b and c; b has also "wait that's wrong"
    # (c's "hello there" has none): b 2/3, c 2/2
    assert r.ngram_repetition([b, c]) == pytest.approx((2 / 3 + 1) / 2)
    # size does not drive it: copies of a corpus score as the corpus does
    copies = [[dict(m) for m in conv] for conv in (a, b, c)]
    assert r.opener_repetition([a, b, c, *copies]) > r.opener_repetition([a, b, c])
    assert r.ngram_repetition([a, b, c]) == pytest.approx(
        r.ngram_repetition([[dict(m) for m in conv] for conv in (a, b, c)])
    )


def test_conversations_of_one_task_are_not_compared_with_each_other() -> None:
    """Six people asked for the same booking share its words without any template: the
    cross-conversation features compare conversations of different tasks only."""
    booking = [user("a table for 4 at 19:30"), bot("done"), user("thanks, that's all")]
    train = [user("a train to london on friday"), bot("done"), user("thanks, that's all")]

    def played(conversation: list[dict[str, str]], task: str) -> r.TaskConversation:
        return r.TaskConversation([dict(m) for m in conversation], task=task)

    same_task = [played(booking, "table") for _ in range(3)]
    # as plain conversations, three copies of one are all repetition
    assert r.ngram_repetition([list(c) for c in same_task]) == pytest.approx(1.0)
    assert r.opening_uniformity([list(c) for c in same_task]) == pytest.approx(1.0)
    # of one task, there is nothing to compare them with
    assert math.isnan(r.ngram_repetition(same_task))
    assert math.isnan(r.opener_repetition(same_task))
    assert math.isnan(r.opening_uniformity(same_task))
    # with another task, only what crosses tasks counts: "thanks that's all" (1 of the
    # table's 6 trigrams, "19:30" being two words, and 1 of the train's 5), never the
    # booking the three share
    runs = [*same_task, played(train, "train")]
    table_share, train_share = 1 / 6, 1 / 5
    assert r.ngram_repetition(runs) == pytest.approx((3 * table_share + train_share) / 4)
    assert r.opener_repetition(runs) == pytest.approx(0.5)  # "thanks that's" of 2 openers
    # first turns: only the three table-train pairs, all alike
    crossing = r.text_similarity(booking[0]["content"], train[0]["content"])
    assert r.opening_uniformity(runs) == pytest.approx(crossing)
    assert crossing < r.opening_uniformity([list(c) for c in runs])
    # conversations that do not say their task each count as their own (as before)
    assert r.ngram_repetition([list(c) for c in runs]) > r.ngram_repetition(runs)


def test_content_reactivity_by_hand() -> None:
    conv = [
        user("I need a hotel"),
        bot("Which area of town do you prefer?"),
        user("the north area please"),  # picks up "area"
        bot("The Acorn guest house is free."),
        user("ok thanks"),  # picks up nothing
    ]
    assert r.content_reactivity([conv]) == pytest.approx(0.5)
    assert math.isnan(r.content_reactivity([[user("hi")]]))


def test_bootstrap_intervals_cover_the_estimate_and_narrow_with_more_data() -> None:
    human = corpus()
    reference = r.TypoIndex(r.vocabulary(str(m.get("content", "")) for c in human for m in c))
    values = r.realism_features(human, reference=reference)
    few = r.bootstrap_realism(human[:8], values, reference=reference, n_resamples=30)
    many = r.bootstrap_realism(human[:32], values, reference=reference, n_resamples=30)
    assert few is not None and many is not None
    low, high = few.values["words_per_turn"]
    assert low <= r.realism_features(human[:8], reference=reference)["words_per_turn"] <= high
    width = lambda iv: iv[1] - iv[0]  # noqa: E731
    assert width(many.values["words_per_turn"]) < width(few.values["words_per_turn"])
    assert 0.0 <= few.index[0] <= few.index[1] <= 100.0
    assert set(few.to_dict()) >= {"values", "similarity", "dimensions", "index", "confidence"}
    assert r.bootstrap_realism(human[:1], values, reference=reference) is None

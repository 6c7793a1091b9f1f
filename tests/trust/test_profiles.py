"""Profiles from real logs: extracted from the MultiWOZ and Taskmaster samples, checked
against the corpora's own rates; the command, its input errors and the held-out half."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from cli_run import simulacra_cli
from simulacra.errors import ConfigError
from simulacra.people import load_profiles, sample_profiles
from simulacra.trust import read_conversations
from simulacra.trust._profiles import extract_profiles, profiles_from_file, split_corpus
from simulacra.trust._realism import user_turns, word_count

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
CORPORA = {
    "multiwoz": SHARED / "multiwoz21-dev-sample" / "conversations.jsonl",
    "taskmaster": SHARED / "taskmaster4-coffee-sample" / "conversations.jsonl",
}


def corpus_path(name: str) -> Path:
    path = CORPORA[name]
    if not path.exists():
        pytest.skip(f"shared data not here: {path}")
    return path


def weighted(values: list[float], weights: list[float]) -> float:
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_extracted_profiles_carry_the_corpus_rates(name: str) -> None:
    corpus = read_conversations(corpus_path(name))
    extraction = extract_profiles(corpus.conversations, groups=3, seed=0, prefix=name)
    profiles = extraction.profiles
    assert 2 <= len(profiles) <= 3 and extraction.n_conversations == 300
    weights = [p.weight for p in profiles]
    assert abs(sum(weights) - 1) < 1e-3
    turns = [t for c in corpus.conversations for t in user_turns(c)]
    # the profiles' rates, weighted by their share of conversations, are the corpus's
    # (up to conversations of different lengths weighing differently)
    lower = sum(t.strip()[:1].islower() for t in turns) / len(turns)
    assert abs(weighted([p.style.lowercase_rate for p in profiles], weights) - lower) < 0.05
    median = statistics.median(word_count(t) for t in turns)
    medians = [p.length.median_words for p in profiles]
    assert min(medians) <= median <= max(medians)
    # the groups differ in how they write
    assert max(medians) - min(medians) >= 2 or (
        max(p.style.lowercase_rate for p in profiles)
        - min(p.style.lowercase_rate for p in profiles)
        >= 0.2
    )
    # phrases are shared by several conversations and hold no digits
    for p in profiles:
        for phrase in [*p.openings, *p.acknowledgements, *p.closings]:
            assert not any(ch.isdigit() for ch in phrase)
    assert extraction == extract_profiles(corpus.conversations, groups=3, seed=0, prefix=name)


def test_the_two_corpora_give_the_users_they_have() -> None:
    woz = profiles_from_file(corpus_path("multiwoz"))[0].profiles
    tm = profiles_from_file(corpus_path("taskmaster"))[0].profiles

    def mean(profiles: list, get: object) -> float:  # type: ignore[type-arg]
        return weighted([get(p) for p in profiles], [p.weight for p in profiles])  # type: ignore[operator]

    # MultiWOZ users hold long multi-domain conversations and spread their details;
    # Taskmaster customers order in one message and confirm
    assert mean(woz, lambda p: p.interaction.typical_turns) > 2 * mean(
        tm, lambda p: p.interaction.typical_turns
    )
    assert (
        mean(tm, lambda p: p.interaction.opening_facts)
        > mean(woz, lambda p: p.interaction.opening_facts) + 0.3
    )
    woz_openings = {o.lower() for p in woz for o in p.openings}
    tm_openings = {o.lower() for p in tm for o in p.openings}
    assert any(o.startswith(("i need", "i am looking", "i'm looking")) for o in woz_openings)
    assert any(o.startswith(("can i get", "i would like", "i'd like")) for o in tm_openings)
    assert any("thank" in c.lower() for p in woz for c in p.closings)


def test_a_phrase_only_one_conversation_used_is_not_kept() -> None:
    conversations = [
        [{"role": "user", "content": "Can I get a tea?"}, {"role": "assistant", "content": "Sure."}]
        for _ in range(6)
    ] + [
        [
            {"role": "user", "content": "Zebra crossing request here"},
            {"role": "assistant", "content": "Hm?"},
        ]
    ]
    profiles = extract_profiles(conversations, groups=1, min_count=2).profiles
    assert profiles[0].openings == ["Can I get", "Can I"]
    assert not any("Zebra" in o for p in profiles for o in p.openings)


def test_own_phrases_is_how_often_people_say_a_banked_phrase() -> None:
    """Two of ten customers close with "Thanks, bye"; the others each in their own words:
    the profile keeps the phrase and says it about a fifth of the time, not every time."""

    def chat(closing: str) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": "Can I get a tea?"},
            {"role": "assistant", "content": "Sure, here it is."},
            {"role": "user", "content": closing},
        ]

    own = [f"Thank you, that {w} it" for w in ("does", "is", "makes", "settles")] + [
        f"Lovely, {w} thanks" for w in ("great", "super", "brilliant", "wonderful")
    ]
    conversations = [chat("Thanks, bye"), chat("Thanks, bye."), *map(chat, own)]
    profile = extract_profiles(conversations, groups=1, min_count=2).profiles[0]
    assert profile.closings == ["Thanks, bye"]
    assert profile.interaction.own_phrases == pytest.approx(0.2)
    # on the real corpora: MultiWOZ users close in their own words (a shared phrase is a
    # few percent of closings), Taskmaster customers confirm with a plain "Yes." often
    woz = profiles_from_file(corpus_path("multiwoz"))[0].profiles
    tm = profiles_from_file(corpus_path("taskmaster"))[0].profiles
    assert all(p.interaction.own_phrases < 0.2 for p in woz if p.closings)
    assert max(p.interaction.own_phrases for p in tm) > 0.4


def test_a_population_drawn_from_extracted_profiles_keeps_their_mix() -> None:
    profiles = profiles_from_file(corpus_path("taskmaster"))[0].profiles
    people = sample_profiles(profiles, 3000, seed=1)
    for profile in profiles:
        drawn = sum(p.name.startswith(profile.name + "-") for p in people) / len(people)
        assert abs(drawn - profile.weight) < 0.03


def test_split_halves_are_disjoint_seeded_and_cover_the_corpus() -> None:
    corpus = read_conversations(corpus_path("multiwoz"))
    one, other = split_corpus(corpus, seed=3)
    assert len(one.ids) == len(other.ids) == 150
    assert not set(one.ids) & set(other.ids) and set(one.ids) | set(other.ids) == set(corpus.ids)
    assert split_corpus(corpus, seed=3)[0].ids == one.ids != split_corpus(corpus, seed=4)[0].ids
    with pytest.raises(ConfigError, match="between 0 and 1"):
        split_corpus(corpus, share=1.0)


def test_profiles_command_writes_profiles_and_the_held_out_half(tmp_path: Path) -> None:
    out = tmp_path / "profiles.yaml"
    held = tmp_path / "held.jsonl"
    result = simulacra_cli(
        "profiles", "from", str(corpus_path("taskmaster")), "-o", str(out),
        "--share", "0.5", "--holdout", str(held), "--seed", "2", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    profiles = load_profiles(out)
    assert profiles[0].name.startswith("taskmaster4-coffee-sample-")
    assert "profiles_file" in out.read_text()  # the header says how to use it
    rest = read_conversations(held)
    assert len(rest.conversations) == 150
    used = set(read_conversations(corpus_path("taskmaster")).ids) - set(rest.ids)
    assert len(used) == 150
    listed = simulacra_cli("profiles", "list", str(out), "--json", cwd=tmp_path)
    assert [p["name"] for p in json.loads(listed.stdout)] == [p.name for p in profiles]
    sampled = simulacra_cli(
        "profiles", "sample", str(out), "-n", "7", "-o", str(tmp_path / "people.yaml"),
        cwd=tmp_path,
    )  # fmt: skip
    assert sampled.returncode == 0 and len(load_profiles(tmp_path / "people.yaml")) == 7


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": [oops\n', "line 2"),
        ('{"messages": [{"role": "user", "content": "hi"}]}\n{"messages": "x"}\n', "line 2"),
        ('{"messages": [{"content": "hi"}]}\n', "line 1, message 1: message has no role"),
    ],
)
def test_bad_input_names_file_and_line_and_writes_nothing(
    tmp_path: Path, content: str, expected: str
) -> None:
    source = tmp_path / "chats.jsonl"
    source.write_text(content)
    out = tmp_path / "profiles.yaml"
    result = simulacra_cli("profiles", "from", str(source), "-o", str(out), cwd=tmp_path)
    assert result.returncode == 2
    assert "chats.jsonl" in result.stderr and expected in result.stderr
    assert not out.exists()


def test_holdout_without_a_share_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "chats.jsonl"
    source.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n')
    result = simulacra_cli(
        "profiles", "from", str(source), "-o", str(tmp_path / "p.yaml"),
        "--holdout", str(tmp_path / "h.jsonl"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2 and "--share" in result.stderr
    assert not (tmp_path / "p.yaml").exists()

"""User profiles from real conversations: how a team's own users write and behave.

The conversations are grouped by how their users write (k-means on per-conversation
habits: words per turn, casing, end punctuation, politeness, length of the
conversation), and each group becomes a ``Profile``: its rates measured on the group's
user turns, its typical openings, acknowledgements and closings taken from what several
of its users wrote, and its share of the conversations as its ``weight``. A population
sampled from the profiles (``simulacra.people.sample_profiles``) then has the corpus's
mix of users.

Phrases are kept only when at least ``min_count`` different conversations used them and
they hold no digit, so that no one user's details (a booking reference, a phone number)
end up in a profile.
"""

from __future__ import annotations

import math
import random
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simulacra._records import write_bytes_atomic
from simulacra.errors import ConfigError
from simulacra.people import Interaction, LengthProfile, Profile, WritingStyle
from simulacra.trust._corpus import Corpus, Message, read_conversations
from simulacra.trust._realism import (
    _POLITE,
    _SHORTHAND,
    TypoIndex,
    assistant_turns,
    cooperativeness,
    formality_score,
    front_loading,
    is_acknowledgement,
    is_question,
    typo_rate,
    user_turns,
    vocabulary,
    word_count,
)

Conversation = list[Message]

_GREETING = re.compile(r"^\W*(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b", re.I)
_CLOSING = re.compile(
    r"\b(?:thanks?|thank (?:you|u)|thx|cheers|bye|goodbye|good bye|that'?s all|that is all|"
    r"all set|looks good|sounds good|perfect|great)\b",
    re.I,
)
_ASK_SHORTER = re.compile(
    r"\b(?:shorter|too long|tl;?dr|briefly|in short|short version|summari[sz]e)\b", re.I
)
_ACK_START = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ok|okay|sure|no|nope|that(?:'s| is| would be| sounds| works)|"
    r"looks|sounds|perfect|great|correct|right|fine|alright|please)\b",
    re.I,
)
_DIGIT = re.compile(r"\d")
_END = ".!?"


@dataclass(frozen=True, kw_only=True)
class ProfileExtraction:
    """Profiles extracted from a corpus, with what they were measured on."""

    profiles: list[Profile]
    source: str
    n_conversations: int
    n_user_turns: int
    skipped: int = 0
    groups: list[int] = field(default_factory=list)
    """Each conversation's group (the index of its profile)."""

    def to_yaml(self) -> str:
        header = (
            f"# User profiles extracted from {self.source}: {self.n_conversations} "
            f"conversations, {self.n_user_turns} user turns.\n"
            "# Use them with `user: {simulator: roleplay, options: {profiles_file: <this file>}}`.\n"
        )
        body = {"profiles": [p.model_dump(mode="json") for p in self.profiles]}
        return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)

    def write(self, path: str | Path) -> Path:
        """Write the profiles as YAML, atomically."""
        target = Path(path)
        write_bytes_atomic(target, self.to_yaml().encode("utf-8"))
        return target


def _share(values: Sequence[bool]) -> float:
    return sum(values) / len(values) if values else 0.0


def _first_letter_lower(text: str) -> bool:
    first = next((c for c in text if c.isalpha()), "")
    return first.islower()


def _habits(conversation: Conversation) -> list[float]:
    """Per-conversation writing habits, the coordinates conversations are grouped by."""
    turns = [t for t in user_turns(conversation) if t.strip()]
    lengths = [max(1, word_count(t)) for t in turns]
    return [
        math.log(statistics.median(lengths)),
        _share([_first_letter_lower(t) for t in turns]),
        _share([t.strip()[-1:] in _END for t in turns]),
        _share([bool(_POLITE.search(t)) for t in turns]),
        math.log(len(turns)),
    ]


def group_conversations(
    conversations: Sequence[Conversation], groups: int, *, seed: int = 0, min_size: int = 5
) -> list[int]:
    """Each conversation's group: k-means on standardised habits (``scipy``), seeded;
    a group smaller than ``min_size`` joins the nearest larger one."""
    from scipy.cluster.vq import kmeans2

    points = np.array([_habits(c) for c in conversations], dtype=np.float64)
    k = max(1, min(groups, len(conversations) // max(1, min_size)))
    if k == 1:
        return [0] * len(conversations)
    scale = points.std(axis=0)
    scale[scale == 0] = 1.0
    data = (points - points.mean(axis=0)) / scale
    centres, labels = kmeans2(data, k, minit="++", seed=np.random.default_rng(seed))
    sizes = Counter(labels.tolist())
    big = [g for g, n in sizes.items() if n >= min_size] or [sizes.most_common(1)[0][0]]
    relabel: dict[int, int] = {}
    for g in range(k):
        if g in big:
            relabel[g] = g
        else:
            relabel[g] = min(big, key=lambda b: float(np.sum((centres[g] - centres[b]) ** 2)))
    # number the groups by size, largest first
    merged = [relabel[g] for g in labels.tolist()]
    order = [g for g, _ in Counter(merged).most_common()]
    rank = {g: i for i, g in enumerate(order)}
    return [rank[g] for g in merged]


def _phrase(text: str) -> str:
    return " ".join(text.split()).strip()


def _key(phrase: str) -> str:
    return _phrase(phrase).lower().rstrip(".!?, ")


def _common(phrases: Sequence[tuple[int, str]], *, min_count: int, top: int) -> list[str]:
    """The phrases most conversations used (each conversation counted once), in their
    commonest spelling; digits never."""
    owners: dict[str, set[int]] = {}
    spellings: dict[str, Counter[str]] = {}
    for owner, phrase in phrases:
        phrase = _phrase(phrase)
        if not phrase or _DIGIT.search(phrase):
            continue
        key = _key(phrase)
        owners.setdefault(key, set()).add(owner)
        spellings.setdefault(key, Counter())[phrase] += 1
    ranked = sorted(owners, key=lambda k: (-len(owners[k]), k))
    return [spellings[k].most_common(1)[0][0] for k in ranked if len(owners[k]) >= min_count][:top]


def _openings(conversations: Sequence[tuple[int, Conversation]], min_count: int) -> list[str]:
    """Typical starts of a first message: its first three words (two when three are
    too rare to repeat)."""
    found: list[str] = []
    for n in (3, 2):
        phrases = []
        for owner, conversation in conversations:
            turns = user_turns(conversation)
            words = turns[0].split()[:n] if turns else []
            if len(words) == n:
                phrases.append((owner, " ".join(words).rstrip(",.!?;:")))
        found += [p for p in _common(phrases, min_count=min_count, top=6) if p not in found]
        if len(found) >= 4:
            break
    return found[:6]


def _reactions(conversation: Conversation) -> list[tuple[str, str]]:
    """(assistant turn, the user turn right after it)."""
    pairs = []
    previous: str | None = None
    for message in conversation:
        if message["role"] == "assistant" and message["content"].strip():
            previous = message["content"]
        elif message["role"] == "user" and message["content"].strip():
            if previous is not None:
                pairs.append((previous, message["content"]))
            previous = None
    return pairs


def _describe(profile: dict[str, Any]) -> str:
    style = profile["style"]
    length = profile["length"]["median_words"]
    words = "short" if length < 7 else "medium-length" if length < 14 else "long"
    habits = [f"{words} messages (about {round(length)} words)"]
    if style["lowercase_rate"] > 0.5:
        habits.append("mostly lower case")
    elif style["lowercase_rate"] < 0.1:
        habits.append("capitalised")
    if style["end_punctuation_rate"] > 0.7:
        habits.append("full stops and question marks")
    elif style["end_punctuation_rate"] < 0.3:
        habits.append("little end punctuation")
    polite = profile["interaction"]["politeness_rate"]
    habits.append("often says please and thanks" if polite > 0.35 else "few pleasantries")
    return ", ".join(habits)


def _profile(
    name: str,
    members: list[tuple[int, Conversation]],
    *,
    weight: float,
    typos: TypoIndex,
    min_count: int,
    source: str,
) -> Profile:
    conversations = [c for _, c in members]
    turns = [t for c in conversations for t in user_turns(c) if t.strip()]
    lengths = [max(1, word_count(t)) for t in turns]
    logs = [math.log(n) for n in lengths]
    firsts = [user_turns(c)[0] for c in conversations]
    lasts = [(o, user_turns(c)[-1]) for o, c in members]
    per_conversation = [len(user_turns(c)) for c in conversations]
    reactions = [(o, a, u) for o, c in members for a, u in _reactions(c)]
    # long answers: the longest quarter of this group's assistant turns
    assistant_lengths = sorted(word_count(t) for c in conversations for t in assistant_turns(c))
    long_words = (
        max(20, assistant_lengths[(3 * len(assistant_lengths)) // 4]) if assistant_lengths else 60
    )
    after_long = [word_count(u) for _, a, u in reactions if word_count(a) > long_words]
    after_short = [word_count(u) for _, a, u in reactions if word_count(a) <= long_words]
    ratio = (
        statistics.median(after_long) / statistics.median(after_short)
        if after_long and after_short
        else 1.0
    )
    if _share([bool(_ASK_SHORTER.search(u)) for _, _, u in reactions]) > 0.03:
        long_answer = "ask_shorter"
    elif ratio < 0.8:
        long_answer = "skim"
    else:
        long_answer = "read"
    # unprompted: after an assistant turn that asked nothing, the user adds something
    unasked = [u for _, a, u in reactions if "?" not in a]
    volunteers = _share([word_count(u) >= 6 and not is_acknowledgement(u) for u in unasked])
    front = front_loading(conversations)
    typical = float(statistics.median(per_conversation))
    follow = _share([any(is_question(t) for t in user_turns(c)[1:]) for c in conversations])
    coop = cooperativeness(conversations)
    closers = [bool(_CLOSING.search(t)) or is_acknowledgement(t) for _, t in lasts]
    acks = [
        (o, u)
        for o, _, u in reactions
        if word_count(u) <= 8 and _ACK_START.search(u) and not is_question(u)
    ]
    closing_phrases = [
        (o, t)
        for o, t in lasts
        if word_count(t) <= 12 and not is_question(t) and _CLOSING.search(t)
    ]
    rate = typo_rate(turns, typos)
    acknowledgements = _common(acks, min_count=min_count, top=6)
    closings = _common(closing_phrases, min_count=min_count, top=6)
    banked = {_key(p) for p in acknowledgements + closings}
    said = [_key(p) for _, p in acks + closing_phrases if _key(p)]
    # how often these people's agreeing and closing turns are one of the banked phrases:
    # said every time, a phrase two conversations shared recurs in every conversation
    own_phrases = sum(k in banked for k in said) / len(said) if said else 1.0
    data: dict[str, Any] = {
        "name": name,
        "background": "",
        "style": {
            "lowercase_rate": round(_share([_first_letter_lower(t) for t in turns]), 3),
            "end_punctuation_rate": round(_share([t.strip()[-1:] in _END for t in turns]), 3),
            "formality": round(float(np.nanmean([formality_score(t) for t in turns])), 3),
            "greeting_rate": round(_share([bool(_GREETING.search(t)) for t in firsts]), 3),
            "abbreviations": _share([bool(_SHORTHAND.search(t)) for t in turns]) > 0.15,
        },
        "length": {
            "median_words": float(statistics.median(lengths)),
            "sigma": round(statistics.pstdev(logs), 3) if len(logs) > 1 else 0.5,
        },
        "interaction": {
            "opening_facts": round(front if not math.isnan(front) else 0.5, 3),
            "reveal": "unprompted" if volunteers > 0.5 else "when_asked",
            "long_answer_words": int(long_words),
            "long_answer": long_answer,
            "stop": (
                "leaves_early"
                if typical <= 2
                else "after_follow_up"
                if follow > 0.4
                else "when_answered"
            ),
            "typical_turns": typical,
            "closing_rate": round(_share(closers), 3),
            "follow_up_rate": round(follow, 3),
            "politeness_rate": round(_share([bool(_POLITE.search(t)) for t in turns]), 3),
            "own_phrases": round(own_phrases, 3),
        },
    }
    description = _describe(data)
    data.update(
        {
            "background": f"A user of the service these conversations come from; "
            f"{weight:.0%} of its users write like this.",
            "knowledge": "Knows what they want and the details of their own situation.",
            "message_style": description,
            "typo_rate": round(0.0 if math.isnan(rate) else min(0.3, rate), 4),
            "cooperativeness": round(0.8 if math.isnan(coop) else coop, 3),
            "openings": _openings(members, min_count),
            "acknowledgements": acknowledgements,
            "closings": closings,
            "weight": round(weight, 4),
            "source": source,
        }
    )
    WritingStyle.model_validate(data["style"])
    LengthProfile.model_validate(data["length"])
    Interaction.model_validate(data["interaction"])
    return Profile.model_validate(data)


def extract_profiles(
    conversations: Sequence[Conversation],
    *,
    groups: int = 3,
    min_count: int = 2,
    seed: int = 0,
    prefix: str = "extracted",
    source: str = "",
) -> ProfileExtraction:
    """Profiles of the users of ``conversations`` (see the module docstring)."""
    usable = [list(c) for c in conversations if any(t.strip() for t in user_turns(c))]
    if not usable:
        raise ConfigError("no conversation with a user turn", source=source or None)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", prefix):
        raise ConfigError(f"profile name prefix {prefix!r}: use letters, digits, - _ .")
    labels = group_conversations(usable, groups, seed=seed)
    pool = vocabulary(m["content"] for c in usable for m in c)
    typos = TypoIndex(pool)
    profiles = []
    for group in sorted(set(labels)):
        members = [
            (i, c) for i, (c, g) in enumerate(zip(usable, labels, strict=True)) if g == group
        ]
        profiles.append(
            _profile(
                f"{prefix}-{group + 1}",
                members,
                weight=len(members) / len(usable),
                typos=typos,
                min_count=min_count,
                source=source,
            )
        )
    return ProfileExtraction(
        profiles=profiles,
        source=source,
        n_conversations=len(usable),
        n_user_turns=sum(len(user_turns(c)) for c in usable),
        skipped=len(conversations) - len(usable),
        groups=labels,
    )


def split_corpus(corpus: Corpus, *, share: float = 0.5, seed: int = 0) -> tuple[Corpus, Corpus]:
    """Two disjoint parts of ``corpus``, seeded: ``share`` of it, and the rest."""
    if not 0 < share < 1:
        raise ConfigError(f"the share to extract from must be between 0 and 1, got {share}")
    order = list(range(len(corpus.conversations)))
    random.Random(seed).shuffle(order)
    cut = max(1, min(len(order) - 1, round(share * len(order))))
    parts = (sorted(order[:cut]), sorted(order[cut:]))
    return tuple(  # type: ignore[return-value]
        Corpus(
            conversations=[corpus.conversations[i] for i in part],
            ids=[corpus.ids[i] for i in part],
            source=corpus.source,
        )
        for part in parts
    )


def write_corpus(corpus: Corpus, path: str | Path) -> Path:
    """Write conversations in the corpus format (``{"id", "messages"}`` per line), atomically."""
    import json

    lines = [
        json.dumps({"id": i, "messages": c}, ensure_ascii=False)
        for i, c in zip(corpus.ids, corpus.conversations, strict=True)
    ]
    target = Path(path)
    write_bytes_atomic(target, ("\n".join(lines) + "\n").encode("utf-8"))
    return target


def _prefix_for(path: Path) -> str:
    stem = path.stem if path.stem not in ("conversations", "data", "corpus") else path.parent.name
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]+", "-", stem).strip("-")
    return cleaned or "extracted"


def profiles_from_file(
    path: str | Path,
    *,
    groups: int = 3,
    min_count: int = 2,
    seed: int = 0,
    prefix: str | None = None,
    share: float | None = None,
) -> tuple[ProfileExtraction, Corpus | None]:
    """Profiles from a conversations file; with ``share``, from that seeded part of it
    only, returning the rest (to measure the profiles against conversations they were
    not drawn from)."""
    file = Path(path)
    corpus = read_conversations(file)
    rest: Corpus | None = None
    if share is not None:
        corpus, rest = split_corpus(corpus, share=share, seed=seed)
    extraction = extract_profiles(
        corpus.conversations,
        groups=groups,
        min_count=min_count,
        seed=seed,
        prefix=prefix or _prefix_for(file),
        source=str(file),
    )
    return extraction, rest


__all__ = [
    "ProfileExtraction",
    "extract_profiles",
    "group_conversations",
    "profiles_from_file",
    "split_corpus",
    "write_corpus",
]

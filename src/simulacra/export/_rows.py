"""Episodes and judgements as dataset rows, from the assistant's point of view.

In a run, the simulated user speaks as ``user`` and the system under test as
``assistant``: the transcript is already what the assistant saw, so a row keeps those
roles and marks who wrote each message in a parallel ``*_source`` column (``system``,
``simulated_user``, ``target``, ``tool``, or ``reference`` for a task's reference
solution), so that a trainer can keep the simulated user's tokens out of the loss.

Messages are in the OpenAI chat format that Hugging Face chat templates and TRL take:
``role`` and ``content``, an assistant's ``tool_calls`` (``id``, ``type``, ``function``
with ``name`` and ``arguments`` as a JSON string) and a tool result's ``tool_call_id``
and ``name``. :func:`chat_template_messages` turns them into the shape most chat
templates expect (arguments as objects, no empty fields).
"""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from simulacra.rundir import Episode, FeedbackRecord, MessageRecord, RubricRecord
from simulacra.stats import VERDICT_SCORE

Source = Literal["system", "simulated_user", "target", "tool", "reference"]
Span = Literal["reply", "rest"]

SOURCES: dict[str, Source] = {
    "system": "system",
    "user": "simulated_user",
    "assistant": "target",
    "tool": "tool",
}
"""Who wrote a message of an episode, by its role."""


@dataclass(frozen=True, slots=True)
class Conversation:
    """Chat messages with who wrote each one."""

    messages: list[dict[str, Any]]
    sources: list[Source]

    def __len__(self) -> int:
        return len(self.messages)

    def cut(self, start: int, end: int | None = None) -> Conversation:
        return Conversation(self.messages[start:end], self.sources[start:end])

    def assistant_chars(self) -> int:
        """Characters the assistant wrote (what the raters' ``len_a``/``len_b`` count)."""
        return sum(
            len(str(m.get("content") or "").strip())
            for m in self.messages
            if m["role"] == "assistant"
        )


def _arguments(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def chat_message(message: MessageRecord) -> dict[str, Any]:
    """One episode message in the OpenAI chat format (tool fields only where present)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": call.type or "function",
                "function": {"name": call.name, "arguments": _arguments(call.arguments)},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        out["name"] = message.name
    return out


def episode_conversation(episode: Episode, *, system_prompt: str | None = None) -> Conversation:
    """The episode as the assistant saw it: the system prompt (when given), then every
    message it was shown (a simulated user's calls of their own tools are not); turns after the assistant's last message (a user's closing "thanks", said
    as the user stopped) are left out, since nothing answers them."""
    messages: list[dict[str, Any]] = []
    sources: list[Source] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
        sources.append("system")
    for message in episode.seen_by_target():  # not the simulated user's own tool calls
        messages.append(chat_message(message))
        sources.append(SOURCES.get(message.role, "tool"))
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    return Conversation(messages[: last + 1], sources[: last + 1])


def split_final_reply(conversation: Conversation) -> tuple[Conversation, Conversation] | None:
    """(everything up to the last user turn, the assistant's reply to it): the prompt and
    completion of the conversation's final answer; None without a user turn or reply."""
    users = [i for i, m in enumerate(conversation.messages) if m["role"] == "user"]
    if not users or users[-1] == len(conversation) - 1:
        return None
    cut = users[-1] + 1
    return conversation.cut(0, cut), conversation.cut(cut)


def chat_template_messages(messages: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages as most chat templates take them: empty fields (``None``, as a dataset
    fills them in) dropped and each tool call's ``arguments`` parsed into an object."""
    out: list[dict[str, Any]] = []
    for message in messages:
        item = {k: v for k, v in message.items() if v is not None}
        calls = item.get("tool_calls")
        if calls:
            item["tool_calls"] = [_parsed_call(call) for call in calls]
        elif "tool_calls" in item:
            del item["tool_calls"]
        out.append(item)
    return out


def _parsed_call(call: Mapping[str, Any]) -> dict[str, Any]:
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        with contextlib.suppress(ValueError):  # not JSON: the template gets the text
            function["arguments"] = json.loads(arguments) if arguments.strip() else {}
    return {**{k: v for k, v in call.items() if v is not None}, "function": function}


# --- episodes ---------------------------------------------------------------------------


def episode_columns(episode: Episode, judge_score: float | None) -> dict[str, Any]:
    """The provenance columns every episode row carries."""
    return {
        "episode_id": episode.id,
        "run": episode.run,
        "persona": episode.persona.name,
        "task": episode.task.id,
        "suite": episode.task.suite,
        "mode": episode.mode,
        "repeat": episode.repeat,
        "target": episode.target,
        "seed": episode.seed,
        "success": episode.success,
        "judge_score": judge_score,
        "user_turns": episode.user_turns,
        "stop_reason": episode.stop_reason,
    }


def sft_row(
    episode: Episode, conversation: Conversation, judge_score: float | None
) -> dict[str, Any]:
    return {
        "messages": conversation.messages,
        "message_source": list(conversation.sources),
        **episode_columns(episode, judge_score),
    }


def kto_row(
    episode: Episode,
    prompt: Conversation,
    completion: Conversation,
    *,
    label: bool,
    judge_score: float | None,
) -> dict[str, Any]:
    return {
        "prompt": prompt.messages,
        "completion": completion.messages,
        "label": label,
        "prompt_source": list(prompt.sources),
        "completion_source": list(completion.sources),
        **episode_columns(episode, judge_score),
    }


def judge_scores(feedback: Sequence[FeedbackRecord]) -> dict[str, float]:
    """Each judged episode's mean rubric score (every dimension, satisfaction included;
    abstentions left out), by episode id."""
    scores: dict[str, list[float]] = defaultdict(list)
    for record in feedback:
        if isinstance(record, RubricRecord) and record.episode and record.score is not None:
            scores[record.episode].append(record.score)
    return {episode: sum(values) / len(values) for episode, values in scores.items()}


# --- pairwise judgements ------------------------------------------------------------------


@dataclass(slots=True)
class Votes:
    """The pairwise judgements of one item (one or more raters)."""

    item_id: str
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def decided(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("verdict") in VERDICT_SCORE]

    @property
    def first(self) -> dict[str, Any]:
        return self.records[0]

    def score(self) -> float:
        """Side A's mean score over the raters that gave a verdict (A 1, tie ½, B 0)."""
        decided = self.decided
        return sum(VERDICT_SCORE[r["verdict"]] for r in decided) / len(decided)

    def verdict(self) -> Literal["A", "B", "tie"]:
        """The crowd's verdict: the mean score rounded (exactly ½ is a tie)."""
        score = self.score()
        return "A" if score > 0.5 else "B" if score < 0.5 else "tie"

    def diagnostics(self, winner: Literal["A", "B"] | None) -> dict[str, Any]:
        """Agreement, position and swap-consistency columns of the item."""
        decided = self.decided
        confidences = [
            float(r["confidence"]) for r in decided if isinstance(r.get("confidence"), int | float)
        ]
        both = [r for r in decided if r.get("both_orders") and len(r.get("orders") or []) > 1]
        consistent = [_orders_agree(r) for r in both]
        shown_first = (
            None
            if winner is None
            else sum(r.get("first_shown") == winner for r in decided) / len(decided)
        )
        agreement = (
            sum(r["verdict"] == (winner or "tie") for r in decided) / len(decided)
            if decided
            else None
        )
        return {
            "raters": len(decided),
            "abstentions": len(self.records) - len(decided),
            "agreement": agreement,
            "confidence": sum(confidences) / len(confidences) if confidences else None,
            "swap_consistent": None if not consistent else all(consistent),
            "winner_shown_first": shown_first,
            "noise_flipped": sum(bool(r.get("noise_flipped")) for r in decided),
        }


def _orders_agree(record: Mapping[str, Any]) -> bool:
    verdicts = [o.get("verdict") for o in record.get("orders") or [] if o.get("verdict")]
    return len(set(verdicts)) <= 1


def pairwise_votes(feedback: Sequence[FeedbackRecord]) -> list[Votes]:
    """The pairwise judgements grouped by item, in the order items first appear."""
    items: dict[str, Votes] = {}
    for record in feedback:
        if record.kind != "pairwise":
            continue
        data = record.model_dump(mode="json", exclude_unset=True)  # the line as written
        items.setdefault(record.item_id, Votes(record.item_id)).records.append(data)
    return list(items.values())


@dataclass(frozen=True, slots=True)
class PairSides:
    """A judged pair as training data: the shared prompt and each side's continuation."""

    prompt: Conversation
    a: Conversation
    b: Conversation


def shared_prompt(a: Conversation, b: Conversation, span: Span) -> PairSides | str:
    """Two conversations of one context as a prompt they share and two continuations,
    or why they cannot be one (a reason for the dataset card).

    The prompt is their common beginning, cut back to end on a user turn: what the
    assistant answered differently. With ``span="reply"`` each side is the assistant's
    reply to that turn (its messages up to the next user turn), and the pair is kept only
    when the conversations part at the assistant's reply, not at the simulated user's
    turn; with ``span="rest"`` each side is the rest of its conversation, user turns
    included (marked ``simulated_user`` in the ``*_source`` columns).
    """
    same = 0
    for left, right in zip(a.messages, b.messages, strict=False):
        if left != right:
            break
        same += 1
    if same == len(a) and same == len(b):
        return "the two conversations are the same"
    cut = same
    while cut > 0 and a.messages[cut - 1]["role"] != "user":
        cut -= 1
    if cut == 0:
        return "the conversations share no user turn (their openings differ)"
    if span == "rest":
        return PairSides(prompt=a.cut(0, cut), a=a.cut(cut), b=b.cut(cut))
    for side in (a, b):
        if same >= len(side) or side.messages[same]["role"] == "user":
            return "the conversations part at a simulated-user turn, not at a reply"
    return PairSides(prompt=a.cut(0, cut), a=_reply(a, cut), b=_reply(b, cut))


def _reply(conversation: Conversation, start: int) -> Conversation:
    end = next(
        (i for i in range(start, len(conversation)) if conversation.messages[i]["role"] == "user"),
        len(conversation),
    )
    return conversation.cut(start, end)


def reference_conversation(text: str) -> Conversation:
    """A task's reference solution as an assistant reply."""
    return Conversation([{"role": "assistant", "content": text}], ["reference"])


def pair_columns(votes: Votes, episode_a: Episode, episode_b: Episode | None) -> dict[str, Any]:
    first = votes.first
    return {
        "item_id": votes.item_id,
        "pairing": first.get("pairing"),
        "run": episode_a.run,
        "persona": episode_a.persona.name,
        "task": episode_a.task.id,
        "mode": episode_a.mode,
    }


Correct = tuple[bool | None, bool | None]


def _correct(episode_a: Episode, episode_b: Episode | None) -> Correct:
    """Each side's task check (a reference counts as correct)."""
    return (episode_a.success, True if episode_b is None else episode_b.success)


def dpo_row(
    votes: Votes,
    sides: PairSides,
    winner: Literal["A", "B"],
    episode_a: Episode,
    episode_b: Episode | None,
    *,
    correct: Correct | None = None,
) -> dict[str, Any]:
    chosen, rejected = (sides.a, sides.b) if winner == "A" else (sides.b, sides.a)
    ids = (episode_a.id, None if episode_b is None else episode_b.id)
    correct = correct or _correct(episode_a, episode_b)
    pick = 0 if winner == "A" else 1
    len_chosen, len_rejected = chosen.assistant_chars(), rejected.assistant_chars()
    return {
        "prompt": sides.prompt.messages,
        "chosen": chosen.messages,
        "rejected": rejected.messages,
        "prompt_source": list(sides.prompt.sources),
        "chosen_source": list(chosen.sources),
        "rejected_source": list(rejected.sources),
        **pair_columns(votes, episode_a, episode_b),
        "chosen_side": winner,
        "episode_chosen": ids[pick],
        "episode_rejected": ids[1 - pick],
        "correct_chosen": correct[pick],
        "correct_rejected": correct[1 - pick],
        "len_chosen": len_chosen,
        "len_rejected": len_rejected,
        "chosen_longer": len_chosen > len_rejected,
        "preference": votes.score() if winner == "A" else 1.0 - votes.score(),
        **votes.diagnostics(winner),
    }


def pairs_row(
    votes: Votes,
    sides: PairSides,
    episode_a: Episode,
    episode_b: Episode | None,
    *,
    correct: Correct | None = None,
) -> dict[str, Any]:
    correct = correct or _correct(episode_a, episode_b)
    verdict = votes.verdict()
    winner: Literal["A", "B"] | None = None if verdict == "tie" else verdict
    return {
        "prompt": sides.prompt.messages,
        "response_a": sides.a.messages,
        "response_b": sides.b.messages,
        "verdict": verdict,
        "score_a": votes.score(),
        "prompt_source": list(sides.prompt.sources),
        "source_a": list(sides.a.sources),
        "source_b": list(sides.b.sources),
        **pair_columns(votes, episode_a, episode_b),
        "episode_a": episode_a.id,
        "episode_b": None if episode_b is None else episode_b.id,
        "correct_a": correct[0],
        "correct_b": correct[1],
        "len_a": sides.a.assistant_chars(),
        "len_b": sides.b.assistant_chars(),
        **votes.diagnostics(winner),
    }


# --- best-of-n choices recorded in episodes -------------------------------------------------


def best_of_n_pairs(
    episode: Episode, conversation: Conversation, *, offset: int
) -> Iterator[tuple[Votes, PairSides] | str]:
    """The decided comparisons of every best-of-n reply of an episode, each as a pair of
    two candidates after the same conversation (or a reason it cannot be one).

    ``conversation`` is the episode's (``episode_conversation``) and ``offset`` the
    number of messages it has before the episode's first (its system prompt).
    """
    seen = episode.seen_by_target()  # indexed as the conversation is
    for index, message in enumerate(seen):
        record = message.meta.get("best_of_n") if message.role == "assistant" else None
        if not isinstance(record, dict):
            continue
        users = [i for i in range(index) if seen[i].role == "user"]
        try:
            candidates = [
                Conversation([chat_message(MessageRecord.model_validate(c))], ["target"])
                for c in record["candidates"]
            ]
            comparisons = list(record["comparisons"])
        except (KeyError, TypeError, ValueError):
            yield "a best-of-n record that cannot be read"
            continue
        if not users:
            yield "a best-of-n reply without a user turn before it"
            continue
        prompt = conversation.cut(0, users[-1] + 1 + offset)
        for comparison in comparisons:
            try:
                champion, challenger = int(comparison["champion"]), int(comparison["challenger"])
                a, b = candidates[champion], candidates[challenger]
            except (KeyError, TypeError, ValueError, IndexError):
                yield "a best-of-n record that cannot be read"
                continue
            orders = [o for o in comparison.get("orders") or [] if isinstance(o, dict)]
            votes = Votes(
                f"best_of_n:{episode.id}:{users[-1]}:{champion}:{challenger}",
                [
                    {
                        "verdict": comparison.get("verdict"),
                        "first_shown": orders[0].get("first_shown") if orders else None,
                        "both_orders": len(orders) > 1,
                        "orders": orders,
                        "rater": record.get("rater"),
                        "pairing": "best_of_n",
                        "confidence": None,
                    }
                ],
            )
            yield votes, PairSides(prompt=prompt, a=a, b=b)

"""Prompt templates for raters, registered by name.

A template has a ``kind`` (which rater uses it) and two format strings, the system and
the user message. Fields are filled with ``str.format_map``; a field the template does
not use is ignored. Add your own with ``templates.add(name, Template(...))``, or refer to
one in raters.yaml by import path ``package.module:TEMPLATE``.

Fields by kind:

- pairwise: ``context``, ``first``, ``second``, ``noun`` ("Response" or "Conversation"),
  ``persona`` (a description of the rater's persona, may be empty), ``persona_block``
  (``persona`` framed as a sentence, or empty)
- rubric: ``context``, ``response``, ``dimensions`` (one "- name: description" line each),
  ``example`` (one example line, for the first dimension)
- satisfaction: ``persona``, ``goal``, ``response``
- critique: ``context``, ``response``
- checklist (the judge of judged tasks): ``request`` (the goal and what the user also
  wanted), ``reference`` (a reference answer, or empty), ``guidance``, ``noun`` ("final
  answer" or "conversation"), ``response``, ``checklist`` (numbered lines)
- implicit: ``previous`` (the assistant's last reply), ``message`` (the user's turn),
  ``signals`` (the signal names)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simulacra.errors import ConfigError
from simulacra.llm import Message
from simulacra.registry import Registry

TemplateKind = Literal["pairwise", "rubric", "satisfaction", "critique", "implicit", "checklist"]


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True, kw_only=True, slots=True)
class Template:
    """A rater prompt: ``kind`` says which rater can use it."""

    kind: TemplateKind
    system: str
    user: str
    description: str = ""
    needs_persona: bool = False

    def render(self, **fields: str) -> list[Message]:
        values = _Blank(fields)
        messages = []
        if self.system.strip():
            messages.append(Message(role="system", content=self.system.format_map(values)))
        messages.append(Message(role="user", content=self.user.format_map(values)))
        return messages


templates: Registry[Template] = Registry("rater template")


def get_template(name: str, kind: TemplateKind, *, field: str | None = None) -> Template:
    """The template ``name``, checked to be of ``kind``; else a ``ConfigError`` naming it."""
    try:
        template = templates.get(name)
    except ConfigError as exc:
        raise ConfigError(str(exc), field=field) from None
    if not isinstance(template, Template):
        raise ConfigError(f"{name!r} is not a rater template", field=field)
    if template.kind != kind:
        raise ConfigError(
            f"template {name!r} is a {template.kind} template, not a {kind} one", field=field
        )
    return template


_VERDICT_LINE = "Verdict: A, Verdict: B or Verdict: tie"

templates.add(
    "default",
    Template(
        kind="pairwise",
        description="compare, explain briefly, end with a verdict line",
        system=(
            "You are a careful evaluator of AI assistants. You compare two answers to the "
            "same request and decide which one serves the user better: correct, helpful, "
            "clear, and no longer than it needs to be. The order in which the answers are "
            "shown and their length must not sway you."
        ),
        user=(
            "{persona_block}[Context]\n{context}\n\n[{noun} A]\n{first}\n\n[{noun} B]\n{second}\n\n"
            "Compare {noun} A and {noun} B in two or three sentences. Then finish with one "
            f"final line, exactly one of: {_VERDICT_LINE}"
        ),
    ),
)

templates.add(
    "brief",
    Template(
        kind="pairwise",
        description="verdict only: cheap, and the verdict token's logprobs give a confidence",
        system="You are an evaluator of AI assistants. You answer with a verdict line only.",
        user=(
            "{persona_block}[Context]\n{context}\n\n[{noun} A]\n{first}\n\n[{noun} B]\n{second}\n\n"
            "Which {noun} serves the user better? Reply with exactly one line, one of: "
            f"{_VERDICT_LINE}"
        ),
    ),
)

templates.add(
    "persona",
    Template(
        kind="pairwise",
        needs_persona=True,
        description="judge as the rater's persona would, by what that person cares about",
        system=(
            "You are role-playing a real person judging two answers an AI assistant could "
            "give you. Stay in character and judge by what you care about.\n\nWho you are: "
            "{persona}"
        ),
        user=(
            "[What you asked for]\n{context}\n\n[{noun} A]\n{first}\n\n[{noun} B]\n{second}\n\n"
            "Which one would you rather have received? Say why in one or two sentences, "
            f"then finish with one final line, exactly one of: {_VERDICT_LINE}"
        ),
    ),
)

templates.add(
    "rubric",
    Template(
        kind="rubric",
        description="1-5 Likert scores on named dimensions, one line each",
        system=(
            "You rate how well an AI assistant served a user, on a scale from 1 (very poor) "
            "to 5 (excellent). You are strict: 5 is for replies that could not reasonably "
            "be better."
        ),
        user=(
            "[Context]\n{context}\n\n[What the assistant did]\n{response}\n\n"
            "Rate the assistant on each dimension:\n{dimensions}\n\n"
            "Answer with one line per dimension: the dimension's name, a colon, and a whole "
            "number from 1 to 5 that is your own rating, like this: {example}"
        ),
    ),
)

templates.add(
    "satisfaction",
    Template(
        kind="satisfaction",
        needs_persona=True,
        description="persona-conditioned: as this user, how satisfied are you?",
        system=(
            "You are role-playing a real person who has just used an AI assistant. Stay in "
            "character.\n\nWho you are: {persona}"
        ),
        user=(
            "You were trying to do this: {goal}\n\nHere is your conversation with the "
            "assistant:\n\n{response}\n\nAs this person, how satisfied are you with the "
            "assistant? Give a one-sentence reason, then finish with one final line such as "
            "'Satisfaction: 2', with your own number from 1 (very dissatisfied) to 5 (very "
            "satisfied)."
        ),
    ),
)

templates.add(
    "critique",
    Template(
        kind="critique",
        description="strengths, weaknesses and one actionable suggestion",
        system="You review how well an AI assistant served a user, fairly and concretely.",
        user=(
            "[Context]\n{context}\n\n[What the assistant did]\n{response}\n\n"
            "Write a short critique of the assistant in exactly this form:\n"
            "Strengths:\n- ...\nWeaknesses:\n- ...\n"
            "Suggestion: one concrete change that would most improve the assistant's replies"
        ),
    ),
)

templates.add(
    "implicit",
    Template(
        kind="implicit",
        description="label one user turn with implicit feedback signals",
        system="You label what a user's message implies about the assistant's previous reply.",
        user=(
            "[Assistant's previous reply]\n{previous}\n\n[User's next message]\n{message}\n\n"
            "Which of these signals does the user's message show? {signals}.\n"
            "rephrase: restates an earlier request; correction: says the assistant got "
            "something wrong; frustration: annoyed or impatient; gratitude: thanks or "
            "praise; topic_switch: moves to a different subject; abandonment: gives up.\n"
            "Answer with one line: 'Signals: ' followed by a comma-separated list, or "
            "'Signals: none'."
        ),
    ),
)

_CHECKLIST_FORM = (
    "Answer with one line per item, in order, in the form 'N: yes - reason' or "
    "'N: no - reason', where N is the item's number and the reason is one short sentence."
)

templates.add(
    "checklist",
    Template(
        kind="checklist",
        description="must-haves of a judged task: yes or no with a reason, one line each",
        system=(
            "You check an AI assistant's work against a list of must-haves. You are strict "
            "and fair: an item is met only when the work clearly does what it says. How long "
            "the work is and where an item sits in the list must not sway you."
        ),
        user=(
            "[What the user wanted]\n{request}\n\n{reference}{guidance}"
            "[The {noun} to check]\n{response}\n\n[Must-haves]\n{checklist}\n\n"
            f"For each must-have, decide whether the {{noun}} meets it. {_CHECKLIST_FORM}"
        ),
    ),
)

templates.add(
    "checklist-brief",
    Template(
        kind="checklist",
        description="the same checklist, verdicts first and no system prompt (a second judge)",
        system="",
        user=(
            "Task: {request}\n\n{guidance}{noun}:\n{response}\n\n"
            "Checklist:\n{checklist}\n\n"
            f"Is each item met? {_CHECKLIST_FORM}"
        ),
    ),
)

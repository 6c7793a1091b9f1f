"""Simulated raters as the environment's judge: a finished conversation's rubric or
satisfaction scores as a reward in [0, 1]."""

from __future__ import annotations

from typing import Any

from simulacra.feedback import ResponseItem, RubricRater, SatisfactionRater
from simulacra.llm import Message
from simulacra.people import Persona
from simulacra.tasks import Task

SCALE = (1, 5)


def rater_judge(rater: RubricRater | SatisfactionRater, *, seed: int = 0) -> Any:
    """A ``judge`` for the environment from a rubric rater (the mean of its dimensions)
    or a satisfaction rater (the persona's own 1–5), mapped from 1–5 onto [0, 1]. A rater
    that abstains on every dimension gives no score (None): the reward is the check's."""

    async def judge(transcript: list[Message], task: Task, persona: Persona) -> float | None:
        conversation = [m.to_dict() for m in transcript if m.role in ("user", "assistant")]
        item = ResponseItem(
            item_id=f"env:{task.id}:{persona.name}",
            context=f"The user's goal: {task.goal}",
            response=conversation,
            persona=persona.model_dump(mode="json"),
        )
        if isinstance(rater, SatisfactionRater):
            scores = [(await rater.rate(item, seed=seed)).score]
        else:
            scores = [s.score for s in await rater.rate(item, seed=seed)]
        given = [s for s in scores if s is not None]
        if not given:
            return None
        low, high = SCALE
        return (sum(given) / len(given) - low) / (high - low)

    return judge

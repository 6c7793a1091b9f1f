"""A pairwise rater kind: prefers the response that mentions a keyword."""

from __future__ import annotations

from typing import Literal

from simulacra.feedback import (
    OrderVerdict,
    PairItem,
    PoolMember,
    RaterConfig,
    RaterContext,
    RaterOptions,
    rater_kinds,
)


class KeywordOptions(RaterOptions):
    keyword: str


class KeywordRater:
    def __init__(self, id: str, keyword: str) -> None:
        self.id = id
        self.keyword = keyword.lower()
        self.model_identity: str | None = None

    async def compare(
        self, item: PairItem, *, first_shown: Literal["A", "B"], seed: int
    ) -> OrderVerdict:
        a = self.keyword in str(item.response_a).lower()
        b = self.keyword in str(item.response_b).lower()
        verdict: Literal["A", "B", "tie"] = "tie" if a == b else "A" if a else "B"
        return OrderVerdict(first_shown=first_shown, verdict=verdict, parse="fixed")


def keyword_raters(
    spec: RaterConfig, options: KeywordOptions, context: RaterContext
) -> list[PoolMember]:
    rater = KeywordRater(spec.id, options.keyword)
    return [PoolMember(rater=rater, weight=spec.weight, described={"keyword": options.keyword})]


rater_kinds.add("keyword", keyword_raters, options=KeywordOptions)

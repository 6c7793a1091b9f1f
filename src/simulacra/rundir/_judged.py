"""What a judge's verdicts on judged tasks say of the judge itself: position and length.

One computation, over judgement records as JSON (``Episode.check["judgement"]``, or a
:class:`JudgementRecord` dumped): ``summarize`` stores it under the summary's
``judged`` section, and the feedback layer's ``checklist_report`` returns it beside
the agreement of two judges.

- position: the share of must-haves called met by where they were shown (first, last,
  and every position), over each order's own answers: a judge without position bias
  calls an item met as often wherever it sits, as the order is random; and, where two
  orders were judged, the share of items both orders agreed on,
- length: the pass rate of the longer half of the judged texts against the shorter
  half (pass/fail verdicts only), and the correlation of log length with the share met.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any


def _share(values: Sequence[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    if len(pairs) < 3:
        return None
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in pairs) / math.sqrt(sxx * syy)


def _position(judgements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The position figures of ``judgements`` (see the module docstring)."""
    by_position: dict[int, list[bool]] = defaultdict(list)
    last: list[bool] = []
    agree: list[bool] = []
    for judgement in judgements:
        count = len(judgement.get("criteria") or [])
        for criterion in judgement.get("criteria") or []:
            said = criterion.get("verdicts") or []
            for shown, verdict in zip(criterion.get("shown_at") or [], said, strict=False):
                if isinstance(verdict, bool):
                    by_position[int(shown)].append(verdict)
                    if int(shown) == count and count > 1:
                        last.append(verdict)
            known = [v for v in said if isinstance(v, bool)]
            if len(said) == 2 and len(known) == 2:
                agree.append(known[0] == known[1])
    return {
        "met_by_position": {
            str(k): {"n": len(v), "met": _share(v)} for k, v in sorted(by_position.items())
        },
        "first_shown_met": _share(by_position.get(1, [])),
        "last_shown_met": _share(last),
        "order_agreement": _share(agree),
        "items_judged_in_both_orders": len(agree),
    }


def _length(judgements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The length figures of ``judgements`` (see the module docstring)."""
    decided = [
        (int(j.get("answer_chars") or 0), j.get("verdict") == "pass", j)
        for j in judgements
        if j.get("verdict") in ("pass", "fail")
    ]
    length: dict[str, Any] = {"decided": len(decided)}
    if len(decided) >= 2:
        ranked = sorted(decided, key=lambda row: row[0])
        half = len(ranked) // 2
        shorter, longer = ranked[:half], ranked[len(ranked) - half :]
        longer_rate = _share([p for _, p, _ in longer])
        shorter_rate = _share([p for _, p, _ in shorter])
        length["longer_half_pass_rate"] = longer_rate
        length["shorter_half_pass_rate"] = shorter_rate
        length["difference"] = (longer_rate or 0.0) - (shorter_rate or 0.0)
        shares = [
            (math.log1p(chars), j.get("met", 0) / max(1, len(j.get("criteria") or [])))
            for chars, _, j in decided
        ]
        length["length_met_correlation"] = _pearson(shares)
    return length


def judge_figures(judgements: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"position": ..., "length": ...}`` of ``judgements``: what the summary's
    ``judged`` section and ``checklist_report`` give of the judge."""
    return {"position": _position(judgements), "length": _length(judgements)}

"""Which items to send to people, and reading their answers back.

:func:`select_items` ranks the items of a synthetic label file by how unsure the rater
pool is about them: the vote entropy of the item's judgements (how evenly the raters'
labels spread over the possible labels), then the share of abstentions, then the mean
stated confidence (lowest first). These are the items where a human label teaches the
most about where the raters fail.

Items chosen this way are not a random sample, so on their own their human labels
cannot feed an unbiased estimate. A selection is therefore a stratified design: the
``k`` chosen items form the *top* stratum, to be labelled in full, and ``random`` extra
items are drawn uniformly from the *rest* (every item not chosen). Every row says how it
was chosen (``selected_by``) and carries what :func:`simulacra.trust.estimate` needs to
weight the strata: ``stratum`` (``top`` or ``rest``), ``stratum_size`` (the items of its
stratum, per rating dimension) and ``inclusion_probability`` (1 in the top stratum, the
share of the rest drawn otherwise). The estimate is then the top stratum's human mean
and a prediction-powered mean of the rest, weighted by stratum size
(:func:`simulacra.stats.stratified_ppi_mean`), which stays unbiased because the rater's
correction learned on one stratum is never applied to the other.

:func:`annotation_rows` adds the context and the two responses from a run directory, and
:func:`ingest_annotations` reads the filled sheet back into the human-label format,
validating every row.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from simulacra.errors import ConfigError
from simulacra.rundir import Episode
from simulacra.stats import jsonable
from simulacra.trust._io import Row, read_rows
from simulacra.trust._labels import Label, LabelKind, LabelSet, labels_from_rows

SelectBy = Literal["entropy", "confidence"]

ANNOTATION_COLUMNS = (
    "item_id",
    "kind",
    "dimension",
    "selected_by",
    "stratum",
    "stratum_size",
    "inclusion_probability",
    "context",
    "response_a",
    "response_b",
    "annotator_id",
    "preference",
    "rating",
    "scale",
)
"""Columns of the annotation sheet; annotators fill ``annotator_id`` and the label."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Selection:
    """One item chosen for human labelling, with why it was chosen."""

    item_id: str
    kind: LabelKind
    dimension: str | None
    selected_by: str
    vote_entropy: float
    abstain_share: float
    mean_confidence: float | None
    n_judgements: int
    labels: Sequence[Label]
    stratum: str | None = None
    stratum_size: int | None = None
    inclusion_probability: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict without the labels; NaN becomes ``None``."""
        return {
            "item_id": self.item_id,
            "kind": self.kind,
            "dimension": self.dimension,
            "selected_by": self.selected_by,
            "stratum": self.stratum,
            "stratum_size": self.stratum_size,
            "inclusion_probability": jsonable(self.inclusion_probability),
            "vote_entropy": jsonable(self.vote_entropy),
            "abstain_share": jsonable(self.abstain_share),
            "mean_confidence": jsonable(self.mean_confidence),
            "n_judgements": self.n_judgements,
        }


def _categories(kind: LabelKind, scale: tuple[float, float] | None) -> int:
    if kind == "pairwise":
        return 3
    if kind == "binary":
        return 2
    if scale is not None:
        return int(scale[1] - scale[0]) + 1
    return 5


def vote_entropy(categories: Sequence[str], n_categories: int) -> float:
    """Shannon entropy of the labels' distribution over the possible categories,
    normalised by ``log(n_categories)`` to lie in [0, 1]; 0 for one judgement or none."""
    if len(categories) < 2 or n_categories < 2:
        return 0.0
    counts = np.array(list(Counter(categories).values()), dtype=np.float64)
    shares = counts / counts.sum()
    return max(0.0, float(-(shares * np.log(shares)).sum() / math.log(n_categories)))


def _unit_key(label: Label) -> tuple[str, str | None]:
    return label.item_id, label.dimension


def rank_items(synthetic: LabelSet, *, by: SelectBy = "entropy") -> list[Selection]:
    """Every item (per rating dimension) with its disagreement, most uncertain first.

    ``by="entropy"`` orders by vote entropy, then abstention share, then mean confidence
    (lowest first); ``by="confidence"`` by mean confidence first. Missing confidences do
    not count; an item with none sorts as fully confident. Ties keep the file's order.
    """
    if by not in ("entropy", "confidence"):
        raise ConfigError(f"--by must be 'entropy' or 'confidence', got {by!r}")
    groups: dict[tuple[str, str | None], list[Label]] = {}
    for label in synthetic.labels:
        groups.setdefault(_unit_key(label), []).append(label)
    n_categories = _categories(synthetic.kind, synthetic.scale)
    ranked = []
    for (item, dimension), labels in groups.items():
        categories = [x.category for x in labels if x.category is not None]
        confidences = [x.confidence for x in labels if x.confidence is not None]
        ranked.append(
            Selection(
                item_id=item,
                kind=synthetic.kind,
                dimension=dimension,
                selected_by="",
                vote_entropy=vote_entropy(categories, n_categories),
                abstain_share=1.0 - len(categories) / len(labels),
                mean_confidence=float(np.mean(confidences)) if confidences else None,
                n_judgements=len(labels),
                labels=labels,
            )
        )

    def key(s: Selection) -> tuple[float, ...]:
        confidence = 1.0 if s.mean_confidence is None else s.mean_confidence
        if by == "entropy":
            return (-s.vote_entropy, -s.abstain_share, confidence)
        return (confidence, -s.vote_entropy, -s.abstain_share)

    return sorted(ranked, key=key)


def select_items(
    synthetic: LabelSet,
    k: int,
    *,
    by: SelectBy = "entropy",
    random: int = 0,
    exclude: Sequence[str] = (),
    seed: int = 0,
) -> list[Selection]:
    """The ``k`` most uncertain items, plus ``random`` items drawn uniformly from the rest.

    Items in ``exclude`` (e.g. already labelled by people) are never chosen; they are
    outside the design, so :func:`simulacra.trust.estimate` refuses labels of a selection
    made with exclusions on the full synthetic file. Each row carries its stratum, the
    stratum's size and its inclusion probability (see the module docstring), counted per
    rating dimension.
    """
    if k < 0 or random < 0:
        raise ConfigError(f"-k and --random must not be negative, got {k} and {random}")
    skip = set(exclude)
    ranked = [s for s in rank_items(synthetic, by=by) if s.item_id not in skip]
    if k + random > len(ranked):
        raise ConfigError(
            f"asked for {k} + {random} items but only {len(ranked)} are available "
            f"({len(skip)} excluded)",
            source=synthetic.source,
        )
    top, rest = ranked[:k], ranked[k:]
    picks: list[int] = []
    if random:
        rng = np.random.default_rng(seed)
        picks = sorted(rng.choice(len(rest), size=random, replace=False).tolist())
    top_size = Counter(s.dimension for s in top)
    rest_size = Counter(s.dimension for s in rest)
    drawn = Counter(rest[i].dimension for i in picks)
    reason = "disagreement" if by == "entropy" else "confidence"
    chosen = [_with_reason(s, reason, "top", top_size[s.dimension], 1.0) for s in top]
    for i in picks:
        dimension = rest[i].dimension
        chosen.append(
            _with_reason(
                rest[i],
                "random",
                "rest",
                rest_size[dimension],
                drawn[dimension] / rest_size[dimension],
            )
        )
    return chosen


def _with_reason(
    selection: Selection, reason: str, stratum: str, size: int, probability: float
) -> Selection:
    return Selection(
        item_id=selection.item_id,
        kind=selection.kind,
        dimension=selection.dimension,
        selected_by=reason,
        vote_entropy=selection.vote_entropy,
        abstain_share=selection.abstain_share,
        mean_confidence=selection.mean_confidence,
        n_judgements=selection.n_judgements,
        labels=selection.labels,
        stratum=stratum,
        stratum_size=size,
        inclusion_probability=probability,
    )


def transcript(episode: Episode) -> str:
    """An episode's conversation as plain text, one ``role: content`` block per message."""
    return "\n\n".join(
        f"{message.role}: {message.content.strip()}"
        for message in episode.messages
        if message.content.strip()
    )


def _context(episode: Episode) -> str:
    return episode.task.goal


def annotation_rows(
    selections: Sequence[Selection],
    *,
    episodes: Mapping[str, Episode] | None = None,
    run_dir: str | None = None,
) -> list[dict[str, Any]]:
    """One annotation row per selected item, with empty label columns.

    With ``episodes`` (a run directory's episodes by id), pairwise items get the two
    conversations as ``response_a``/``response_b`` and rated items theirs as
    ``response_a``, and ``context`` is the task's goal. An episode id the run does not
    have is an error naming the synthetic line that refers to it.
    """
    rows = []
    for selection in selections:
        first = selection.labels[0]
        context = ""
        response_a = response_b = ""
        if episodes is not None:
            refs = (
                [first.episode_a, first.episode_b]
                if selection.kind == "pairwise"
                else [first.episode, None]
            )
            texts = []
            for ref in refs:
                if ref is None:
                    texts.append("")
                    continue
                episode = episodes.get(ref)
                if episode is None:
                    raise ConfigError(
                        f"episode {ref!r} is not in the run directory {run_dir}",
                        source=first.source,
                        field=f"line {first.line}",
                    )
                texts.append(transcript(episode))
                context = context or _context(episode)
            response_a, response_b = texts
        rows.append(
            {
                **selection.to_dict(),
                "context": context,
                "response_a": response_a,
                "response_b": response_b,
                "annotator_id": "",
                "preference": "" if selection.kind == "pairwise" else None,
                "rating": "" if selection.kind != "pairwise" else None,
                "scale": list(first.scale) if first.scale else None,
            }
        )
    return rows


# --- ingest -----------------------------------------------------------------------------


def _label_column(row: Row) -> str:
    kind = str(row.data.get("kind") or "").strip().lower()
    if kind == "pairwise":
        return "preference"
    if kind in ("rubric", "rating"):
        return "rating"
    if kind == "binary":
        return "success"
    for name in ("preference", "rating", "success"):
        if row.data.get(name) is not None:
            return name
    return "preference"


def ingest_annotations(
    path: str | Path,
    *,
    annotator: str | None = None,
    known_items: Sequence[str] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Read a filled annotation sheet (CSV or JSONL) into human-label records.

    Rows whose label cell is empty are skipped (and counted). Every other row is
    validated: a missing item id, an unknown preference (not A, B or tie), a rating that
    is not a whole number on the scale, a missing annotator id (unless ``annotator``
    gives a default), a duplicated ``(item, annotator)`` pair, and with ``known_items``
    an item id not among them, each raise an error naming the file and line.
    Returns the records and the number of skipped rows.
    """
    file = Path(path)
    rows = read_rows(file)
    filled: list[Row] = []
    skipped = 0
    for raw in rows:
        data = {
            key: value
            for key, value in raw.data.items()
            if value is not None and not (isinstance(value, str) and not value.strip())
        }
        column = _label_column(Row(data=data, source=raw.source, line=raw.line))
        if data.get(column) is None:
            skipped += 1
            continue
        data.pop("preference" if column != "preference" else "rating", None)
        kind = str(data.get("kind") or "").strip().lower()
        data["kind"] = {"rubric": "rating", "": None}.get(kind, kind)
        if data["kind"] is None:
            data.pop("kind")
        filled.append(Row(data=data, source=raw.source, line=raw.line, csv=raw.csv))
    if not filled:
        raise ConfigError(
            f"no labelled rows ({skipped} row(s) with an empty label)", source=str(file)
        )
    labels = labels_from_rows(filled, "human", source=str(file), default_annotator=annotator)
    if known_items is not None:
        known = set(known_items)
        for label in labels.labels:
            if label.item_id not in known:
                raise ConfigError(
                    f"unknown item id {label.item_id!r}: not in the synthetic labels",
                    source=label.source,
                    field=f"line {label.line}",
                )
    return [_record(label) for label in labels.labels], skipped


def _record(label: Label) -> dict[str, Any]:
    record: dict[str, Any] = {"item_id": label.item_id, "annotator_id": label.annotator}
    if label.kind == "pairwise":
        record["preference"] = label.value
    elif label.kind == "rating":
        record["kind"] = "rating"
        record["rating"] = int(label.score or 0)
        if label.dimension:
            record["dimension"] = label.dimension
        if label.scale:
            record["scale"] = [int(v) if v == int(v) else v for v in label.scale]
    else:
        record["success"] = int(label.score or 0)
    for name in (
        "segment",
        "system_a",
        "system_b",
        "system",
        "selected_by",
        "stratum",
        "stratum_size",
        "inclusion_probability",
    ):
        value = getattr(label, name)
        if value is not None:
            record[name] = value
    return record


__all__ = [
    "ANNOTATION_COLUMNS",
    "Selection",
    "annotation_rows",
    "ingest_annotations",
    "rank_items",
    "select_items",
    "transcript",
    "vote_entropy",
]

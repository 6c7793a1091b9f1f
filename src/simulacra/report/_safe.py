"""Turning untrusted run data into values that are safe to embed in a page.

Everything in a run directory may hold text that a model or a user wrote, so nothing
read from it is trusted: numbers that JSON cannot carry (NaN, infinities) become
``None``, odd types become strings, very deep nesting is cut, long strings are
shortened, known secrets and ``Bearer`` tokens become ``<redacted>``, and JSON placed inside a ``<script>`` element has every character that could
end the element or be read as markup written as a ``\\u`` escape with four hex digits.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

from simulacra._secrets import contains_secret, scrub_value

MAX_DEPTH = 40

# Characters that must never appear raw inside a <script> element: '<' could start
# '</script>' or '<!--', '>' and '&' are escaped too for good measure, and U+2028/U+2029
# are line terminators in older JavaScript parsers. Outside JSON strings none of them
# can occur, so replacing them everywhere keeps the JSON valid.
_SCRIPT_ESCAPES = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def clean(value: Any, *, max_chars: int | None = None, _depth: int = 0) -> Any:
    """A JSON-ready copy of ``value``: finite numbers, string keys, plain containers.

    Strings longer than ``max_chars`` are shortened with :func:`shorten`; containers
    nested deeper than ``MAX_DEPTH`` become a short string.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return shorten(value, max_chars) if max_chars is not None else value
    if _depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {
            key if type(key) is str else str(key): _leaf(item, max_chars, _depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_leaf(item, max_chars, _depth + 1) for item in value]
    return shorten(str(value), max_chars) if max_chars is not None else str(value)


def _leaf(value: Any, max_chars: int | None, depth: int) -> Any:
    """:func:`clean` of one item of a container, without a call for the common leaves
    (the report cleans hundreds of thousands of them)."""
    kind = type(value)
    if kind is str:
        return value if max_chars is None or len(value) <= max_chars else shorten(value, max_chars)
    if kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    return clean(value, max_chars=max_chars, _depth=depth)


def shorten(text: str, max_chars: int | None) -> str:
    """``text`` cut to ``max_chars`` characters with a note of how much was left out."""
    if max_chars is None or len(text) <= max_chars:
        return text
    return f"{text[:max_chars]}… [{len(text) - max_chars:,} more characters]"


def preview(text: str, max_chars: int) -> str:
    """One line of ``text`` for a list: whitespace collapsed, cut with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= max_chars else line[: max_chars - 1].rstrip() + "…"


def compact_json(data: Any) -> str:
    """Compact JSON of already-cleaned data, non-ASCII kept as is.

    orjson writes it (on the 10,000-episode report, a fifth of the standard library's
    time); what orjson refuses (a lone surrogate, an integer beyond 64 bits) falls back
    to ``json.dumps``. Both write the same values (orjson spells ``1e16`` where the
    standard library writes ``1e+16``).
    """
    try:
        return orjson.dumps(data).decode("utf-8")
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_json(data: Any) -> str:
    """Compact JSON of already-cleaned data (no NaN; non-ASCII kept as is), with every
    known secret scrubbed (see :mod:`simulacra._secrets`)."""
    text = compact_json(data)
    if contains_secret(text):
        text = compact_json(scrub_value(data))
    return text


def script_json(data: Any) -> str:
    """JSON that can sit inside ``<script type="application/json">`` unchanged."""
    return to_json(data).translate(_SCRIPT_ESCAPES)


def utf8(text: str) -> bytes:
    """UTF-8 bytes of ``text``; lone surrogates (possible in parsed JSON) become '?'."""
    return text.encode("utf-8", errors="replace")


def number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def estimate(value: Any) -> dict[str, Any] | None:
    """An ``Estimate``-like dict (``value`` with optional ``low``/``high``/``n``), or None.

    A bare number is accepted as an estimate without an interval.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        point = number(value)
        return None if point is None else {"value": point, "low": None, "high": None}
    if not isinstance(value, dict) or "value" not in value:
        return None
    point = number(value.get("value"))
    if point is None and value.get("value") is not None:
        return None
    result: dict[str, Any] = {
        "value": point,
        "low": number(value.get("low")),
        "high": number(value.get("high")),
    }
    for key in ("n", "level", "excluded"):
        extra = number(value.get(key))
        if extra is not None:
            result[key] = int(extra) if key != "level" else extra
    if isinstance(value.get("method"), str):
        result["method"] = value["method"][:200]
    return result

"""The credentials this process knows, and scrubbing them out of text.

A backend that reads a key (``OpenAIModel`` from its ``api_key_env``, and the values of
headers and ``extra_body`` fields whose names say they carry credentials) registers it
here. Everything simulacra writes to a file passes
through :func:`scrub` on the way (the JSONL logs and JSON files of ``_records``, the
report's data, exported labels), so a key an endpoint echoes back in an error body never
reaches a run directory, a report or a terminal message. Besides the registered values,
any ``Bearer <token>`` or ``Basic <token>`` whose token looks like a credential (12 or
more token characters, at least one a digit) is scrubbed, which also covers keys of other
processes found in old files.

Values shorter than :data:`MIN_SECRET_CHARS` are not registered: scrubbing a placeholder
such as ``EMPTY`` or ``x`` would mangle ordinary text, and such a value protects nothing.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

REDACTED = "<redacted>"
MIN_SECRET_CHARS = 8

#: Names of headers and settings whose values are credentials.
_CREDENTIAL_NAME = re.compile(r"auth|key|token|secret|password|cookie|signature", re.I)
_SCHEMED = re.compile(r"\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{12,})", re.I)

_lock = threading.Lock()
_known: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None


def register(value: str | None) -> None:
    """Remember ``value`` as a secret of this process (short values are ignored)."""
    global _known, _pattern
    if not value or len(value) < MIN_SECRET_CHARS:
        return
    forms = {value}
    escaped = json.dumps(value, ensure_ascii=False)[1:-1]
    forms.add(escaped)  # as it reads inside a JSON string
    with _lock:
        if forms <= _known:
            return
        _known = _known | forms
        ordered = sorted(_known, key=len, reverse=True)  # longest first: no partial leftovers
        _pattern = re.compile("|".join(re.escape(v) for v in ordered))


def register_named(name: str, value: object) -> None:
    """Register a header's or setting's value if its name says it is a credential
    (``Authorization``, ``api-key``, ``x-api-key``, ``access_token``, ...); for a
    ``<scheme> <token>`` value the token too. Values that are not strings are ignored."""
    if not isinstance(value, str) or not _CREDENTIAL_NAME.search(name):
        return
    register(value)
    scheme, _, token = value.strip().partition(" ")
    if token and scheme.isalpha():
        register(token.strip())


def known() -> frozenset[str]:
    """The registered values (for tests and diagnostics; never print them)."""
    return _known


def forget_all() -> None:
    """Forget every registered value (for tests)."""
    global _known, _pattern
    with _lock:
        _known = frozenset()
        _pattern = None


def contains_secret(text: str) -> bool:
    """Whether :func:`scrub` would change ``text`` (cheap when it would not)."""
    if any(value in text for value in _known):
        return True
    return _has_scheme(text) and any(_credential(m) for m in _SCHEMED.finditer(text))


def _has_scheme(text: str) -> bool:
    # a substring test first: the case-insensitive pattern is slow on long texts
    lowered = text.lower()
    return "bearer" in lowered or "basic" in lowered


def _credential(match: re.Match[str]) -> bool:
    return any(c.isdigit() for c in match.group(3))


def _redact_scheme(match: re.Match[str]) -> str:
    if not _credential(match):
        return match.group(0)  # "Bearer authentication": a word, not a token
    return f"{match.group(1)}{match.group(2)}{REDACTED}"


def scrub(text: str) -> str:
    """``text`` with every registered secret and every credential-like ``Bearer …`` or
    ``Basic …`` token replaced by ``<redacted>``."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    return _SCHEMED.sub(_redact_scheme, text) if _has_scheme(text) else text


def scrub_value(value: Any) -> Any:
    """A copy of JSON-like data with :func:`scrub` applied to every string and key.

    Dicts and lists are rebuilt (tuples become lists); other values pass unchanged.
    """
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {(scrub(k) if isinstance(k, str) else k): scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_value(item) for item in value]
    return value

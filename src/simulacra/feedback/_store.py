"""``feedback.jsonl``: one JSON line per judgement, written whole and flushed at once.

Each line has a ``key`` (kind, item, rater and, for rubric and implicit lines, the
dimension or turn). A re-run skips keys already present, after cutting a torn last line
and dropping duplicated keys, so the file never holds half a line or the same judgement
twice. ``feedback_config.json`` remembers the raters config that wrote the file; adding to
it with a different config needs ``overwrite``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from simulacra._records import KeyedLog, read_jsonl, write_json_atomic
from simulacra.errors import ConfigError, RunError
from simulacra.llm import resaved_settings
from simulacra.rundir import FEEDBACK, FEEDBACK_CONFIG, FEEDBACK_SUMMARY


def read_feedback(run_dir: str | Path) -> list[dict[str, Any]]:
    """The complete lines of ``RUN_DIR/feedback.jsonl`` (each key once, the first)."""
    return list(read_jsonl(Path(run_dir) / FEEDBACK, key="key"))


def _as_saved_now(before: Any) -> Any:
    """A ``feedback_config.json`` as this version writes it (see ``resaved_settings``)."""
    models = before.get("models") if isinstance(before, dict) else None
    if not isinstance(models, dict):
        return before
    return {**before, "models": {k: resaved_settings(m) for k, m in models.items()}}


class FeedbackStore(KeyedLog):
    """Appends judgements to ``RUN_DIR/feedback.jsonl``; knows which keys are done."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__(run_dir / FEEDBACK, key="key")
        self.run_dir = run_dir

    def prepare(
        self,
        fingerprint: Mapping[str, Any],
        *,
        overwrite: bool = False,
        upgrade: Callable[[Any], Any] | None = None,
    ) -> int:
        """Get the directory ready; return how many judgements are already there.
        ``upgrade`` turns a fingerprint saved by an older version into today's form."""
        if not self.run_dir.is_dir():
            raise ConfigError("run directory not found", source=str(self.run_dir))
        saved = self.run_dir / FEEDBACK_CONFIG
        if overwrite:
            for name in (FEEDBACK, FEEDBACK_SUMMARY, FEEDBACK_CONFIG):
                (self.run_dir / name).unlink(missing_ok=True)
        if self.path.exists() and self.path.stat().st_size > 0 and saved.exists():
            try:
                before = json.loads(saved.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise RunError(
                    f"{saved} is unreadable, so the raters config of {self.path} is unknown; "
                    "pass --overwrite to judge again from scratch"
                ) from None
            if upgrade is not None:
                before = upgrade(before)
            if _as_saved_now(before) != json.loads(json.dumps(dict(fingerprint))):
                raise RunError(
                    f"{self.path} was written with a different raters config; "
                    "pass --overwrite to judge again from scratch"
                )
        count = self.repair()
        write_json_atomic(saved, dict(fingerprint))
        return count

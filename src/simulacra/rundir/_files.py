"""The names of the files in a run directory, declared once."""

from __future__ import annotations

EPISODES = "episodes.jsonl"
"""One line per finished episode (``Episode``), appended and flushed as each ends."""
SUMMARY = "summary.json"
"""What the run amounts to (``Summary``), written at the end and on Ctrl-C."""
CONFIG = "config.json"
"""The resolved run config (no secrets)."""
FEEDBACK = "feedback.jsonl"
"""One line per judgement (``FeedbackRecord``)."""
FEEDBACK_SUMMARY = "feedback_summary.json"
"""Win rates and bias diagnostics of the judgements."""
FEEDBACK_CONFIG = "feedback_config.json"
"""The raters config that wrote ``feedback.jsonl``."""
FIDELITY = "fidelity.json"
"""How the run's simulated users compare with real users."""
LOCK = ".lock"
"""Held (``flock``) by the process writing the directory; names its pid."""

WATCHED = (EPISODES, SUMMARY, CONFIG, FEEDBACK, FEEDBACK_SUMMARY, FIDELITY)
"""The files whose change means the run's data changed (a live view reloads)."""

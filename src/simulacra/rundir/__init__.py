"""The run directory: the typed records every stage reads, their files, and ``RunDir``.

A run directory is the interface between stages (run → judge → trust → report →
export). This package owns it: the file names (declared once), the records
(:class:`Episode`, :class:`MessageRecord`, :class:`GuardEventRecord`,
:class:`UsageRecord`, :class:`PersonaRef`, :class:`TaskRef`, :class:`FeedbackRecord`,
:class:`Summary`), each versioned by ``schema_version`` and upgraded when an older file
is read, and :class:`RunDir`, through which a stage opens a directory and reads it.
JSON Schemas of the records are in ``docs/schema/`` for readers in other tools.
"""

from simulacra.rundir._breakdowns import (
    BREAKDOWN_LIMIT,
    PERSONA_ATTRIBUTES,
    TASK_ATTRIBUTES,
    breakdowns,
    scored_records,
)
from simulacra.rundir._files import (
    CONFIG,
    EPISODES,
    FEEDBACK,
    FEEDBACK_CONFIG,
    FEEDBACK_SUMMARY,
    FIDELITY,
    LOCK,
    SUMMARY,
    WATCHED,
)
from simulacra.rundir._models import (
    DEFAULT_MODE,
    RECORDS,
    ROLES,
    SCHEMA_VERSION,
    Episode,
    Estimate,
    FeedbackRecord,
    GuardEventRecord,
    MessageRecord,
    Mode,
    PersonaRef,
    Status,
    Summary,
    TaskRef,
    ToolCallRecord,
    UsageRecord,
    json_schemas,
    upgrade,
)
from simulacra.rundir._rundir import EpisodeStore, RunDir, match_key, read_episodes
from simulacra.rundir._summary import summarize

__all__ = [
    "BREAKDOWN_LIMIT",
    "CONFIG",
    "DEFAULT_MODE",
    "EPISODES",
    "FEEDBACK",
    "FEEDBACK_CONFIG",
    "FEEDBACK_SUMMARY",
    "FIDELITY",
    "LOCK",
    "PERSONA_ATTRIBUTES",
    "RECORDS",
    "ROLES",
    "SCHEMA_VERSION",
    "SUMMARY",
    "TASK_ATTRIBUTES",
    "WATCHED",
    "Episode",
    "EpisodeStore",
    "Estimate",
    "FeedbackRecord",
    "GuardEventRecord",
    "MessageRecord",
    "Mode",
    "PersonaRef",
    "RunDir",
    "Status",
    "Summary",
    "TaskRef",
    "ToolCallRecord",
    "UsageRecord",
    "breakdowns",
    "json_schemas",
    "match_key",
    "read_episodes",
    "scored_records",
    "summarize",
    "upgrade",
]

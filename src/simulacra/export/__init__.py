"""Simulations as training data: a run directory exported for SFT, DPO, KTO or reward
models, as JSONL and Parquet files that ``datasets.load_dataset`` reads, with a dataset
card beside them.

::

    from simulacra.export import ExportConfig, export_run
    export_run("runs/demo", "data/demo-sft", ExportConfig(format="sft", successful_only=True))

The rows are built from the run's typed records (``simulacra.rundir.RunDir``): episodes
for ``sft`` and ``kto``, the raters' pairwise verdicts in ``feedback.jsonl`` for ``dpo``
and ``pairs``. Conversations are from the assistant's point of view, and every message is
marked with who wrote it, so the simulated user's turns can be kept out of the loss.
Writing Parquet needs the ``export`` extra (``pip install 'simulacra[export]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulacra._lazy import lazy_exports

_EXPORTS = {
    "FORMATS": "simulacra.export._export",
    "Dataset": "simulacra.export._export",
    "ExportConfig": "simulacra.export._export",
    "build_dataset": "simulacra.export._export",
    "system_prompt_of": "simulacra.export._export",
    "ExportFormat": "simulacra.export._formats",
    "export_formats": "simulacra.export._formats",
    "SOURCES": "simulacra.export._rows",
    "Conversation": "simulacra.export._rows",
    "chat_template_messages": "simulacra.export._rows",
    "episode_conversation": "simulacra.export._rows",
    "ExportResult": "simulacra.export._write",
    "dataset_card": "simulacra.export._write",
    "export_run": "simulacra.export._api",
    "write_dataset": "simulacra.export._write",
}

__all__ = [
    "FORMATS",
    "SOURCES",
    "Conversation",
    "Dataset",
    "ExportConfig",
    "ExportFormat",
    "ExportResult",
    "build_dataset",
    "chat_template_messages",
    "dataset_card",
    "episode_conversation",
    "export_formats",
    "export_run",
    "system_prompt_of",
    "write_dataset",
]

if TYPE_CHECKING:
    from simulacra.export._api import export_run
    from simulacra.export._export import (
        FORMATS,
        Dataset,
        ExportConfig,
        build_dataset,
        system_prompt_of,
    )
    from simulacra.export._formats import ExportFormat, export_formats
    from simulacra.export._rows import (
        SOURCES,
        Conversation,
        chat_template_messages,
        episode_conversation,
    )
    from simulacra.export._write import ExportResult, dataset_card, write_dataset

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
del lazy_exports  # the package's helper, not part of what it offers

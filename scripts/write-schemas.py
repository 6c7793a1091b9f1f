"""Write the JSON Schema of each run-directory record to docs/schema/ (run after a
change to simulacra.rundir's records; a test checks the files are up to date)."""

from __future__ import annotations

import json
from pathlib import Path

from simulacra.rundir import json_schemas

OUT = Path(__file__).resolve().parent.parent / "docs" / "schema"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, schema in json_schemas().items():
        path = OUT / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(path)


if __name__ == "__main__":
    main()

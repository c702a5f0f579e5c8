"""The demo's OCME case database (compose profile `demo`): the published records of accidental
drug related deaths loaded into the SQLite file that include/agencies/ocme.yaml reads
(`${CTDATA_VAR_DIR}/sources/ocme.db`).

Run: python deploy/demo_ocme_source.py /opt/ctdata/var/sources/ocme.db
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from ctdata.demo.environment import load_ocme_source

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: demo_ocme_source.py PATH/ocme.db", file=sys.stderr)
        return 2
    path = Path(args[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = load_ocme_source(path)
    print(f"OCME source database {path}: {rows} records")
    return 0


if __name__ == "__main__":
    sys.exit(main())

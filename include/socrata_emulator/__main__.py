"""`python -m socrata_emulator [--data-dir DIR ...]` and `python -m socrata_emulator seed ...`."""

from __future__ import annotations

import sys

from socrata_emulator.cli import main

sys.exit(main())

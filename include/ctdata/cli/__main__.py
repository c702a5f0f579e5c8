"""`python -m ctdata.cli`: the same as the `ctdata` console script."""

from __future__ import annotations

import sys

from ctdata.cli import main

sys.exit(main())

"""Entry point of `make demo` (see ctdata.demo.runner)."""

from __future__ import annotations

import sys

from ctdata.demo.runner import main

if __name__ == "__main__":
    sys.exit(main())

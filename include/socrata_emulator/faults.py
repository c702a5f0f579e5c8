"""Deterministic fault injection for write requests (resilience tests of the publisher).

The n-th write request since start gets the n-th draw of a seeded generator, so a test (or a
reader of `fault_sequence`) knows exactly which writes fail and how.
"""

from __future__ import annotations

import random
import threading

FAULT_KINDS = ("500", "502", "503", "429", "drop", "applied_500")


class FaultInjector:
    """Hands out the fault (or None) for each write request, in arrival order."""

    def __init__(self, rate: float, seed: int):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"--fault-rate must be between 0 and 1, got {rate}")
        self.rate = rate
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def next(self) -> str | None:
        if self.rate <= 0:
            return None
        with self._lock:
            hit = self._rng.random() < self.rate
            kind = self._rng.choice(FAULT_KINDS)
        return kind if hit else None


def fault_sequence(rate: float, seed: int, n: int) -> list[str | None]:
    """The faults the first `n` write requests of a fresh server get."""
    inj = FaultInjector(rate, seed)
    return [inj.next() for _ in range(n)]

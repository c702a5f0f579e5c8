"""What one publication did: counts for the task log, the journal and XCom."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class PublishResult:
    """What one publication did; `as_dict()` is small and JSON-safe for XCom."""

    dataset_id: str
    method: str
    rows_in_source: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    bytes_sent: int = 0
    chunks: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    bytes_received: int = 0
    rows_read_back: int = 0
    replans: int = 0
    stale_reads: int = 0  # reads the portal answered from a copy behind its writes
    seconds_waiting_fresh: float = 0.0
    columns_added: list[str] = field(default_factory=list)
    portal_rows: int | None = None
    verified: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 3)
        out["seconds_waiting_fresh"] = round(self.seconds_waiting_fresh, 3)
        return out

    def summary(self) -> str:
        """One sentence a data officer can read in the task log."""
        return (
            f"rows created {self.created:,}, updated {self.updated:,}, deleted {self.deleted:,}, "
            f"unchanged {self.unchanged:,}; {self.chunks} chunk(s) in {self.requests} "
            f"request(s) ({self.retries} retried), {size_text(self.bytes_sent)} sent, "
            f"{self.rows_read_back:,} row(s) read back; {self.seconds:.1f} s"
        )


def size_text(n_bytes: int) -> str:
    """Bytes in the unit a person reads at a glance."""
    if n_bytes >= 1e6:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1e3:.1f} kB" if n_bytes >= 1e3 else f"{n_bytes} bytes"

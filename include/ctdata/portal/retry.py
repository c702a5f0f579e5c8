"""What retrying can fix when talking to a portal, and how long to wait: shared by every request.

Retry: 429 (honouring Retry-After), 5xx, timeouts, dropped connections and truncated bodies.
Never resend blindly a write that is not idempotent unless the failure proves it was not applied
(429, or a connection that was never made).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504, 520, 522, 524})
_TRANSIENT_ERRORS = (
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.JSONDecodeError,  # a body cut short by a dropped connection
)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters: wait = min(cap, base * 2**attempt) * jitter, within max_seconds total."""

    max_seconds: float = 600.0
    base_seconds: float = 0.5
    cap_seconds: float = 60.0


def status_of(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None) if response is not None else None


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds the portal asked us to wait (Retry-After as seconds or an HTTP date)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def is_transient(exc: BaseException) -> bool:
    """Would a later identical request plausibly succeed?"""
    if isinstance(exc, requests.exceptions.HTTPError):
        return status_of(exc) in _RETRYABLE_STATUS
    return isinstance(exc, _TRANSIENT_ERRORS)


def is_safe_to_repeat(exc: BaseException) -> bool:
    """Failures that prove the request was not applied (so even an append may be resent)."""
    if isinstance(exc, requests.exceptions.HTTPError):
        return status_of(exc) == 429
    return isinstance(exc, requests.exceptions.ConnectTimeout)


def portal_message(exc: BaseException) -> str:
    """The portal's own explanation (its JSON `message`), else the HTTP reason."""
    response = getattr(exc, "response", None)
    if response is None:
        return f"{type(exc).__name__}: {exc}"
    try:
        body = response.json()
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    if not message:
        message = (response.text or "").strip()[:300] or response.reason
    return f"HTTP {response.status_code}: {message}"

"""Exceptions meant for users: each says what is wrong, where, and what to do.

Each class says whether retrying can help (`retryable`). Airflow tasks fail at once on errors
that a retry would only repeat (a bad spec, data that breaks its expectations, a portal that
refuses the data) and keep their retries for what can pass later (a source or portal that is
down or throttling, a write whose outcome is unknown).
"""

from __future__ import annotations

from typing import ClassVar


class CtDataError(Exception):
    """Base for every error the pipeline reports to a person rather than a traceback."""

    retryable: ClassVar[bool] = False


class SpecError(CtDataError):
    """An agency spec (YAML) is invalid: names the file, the field and the reason."""


class ConfigurationError(CtDataError):
    """The installation is misconfigured: a connection without host or credentials, plain http
    to a real portal, a missing environment variable. Fix the configuration and rerun."""


class SourceError(CtDataError):
    """The source's answer cannot be used (bad query, unreadable file, missing column)."""


class SourceUnavailableError(SourceError):
    """The source system cannot be reached right now (database down, HTTP 5xx or timeout, a
    file drop that has not arrived yet): a later attempt may succeed."""

    retryable = True


class ValidationFailed(CtDataError):
    """A Great Expectations suite failed: nothing was published."""


class DisclosureError(CtDataError):
    """A table cannot be aggregated or suppressed as asked (bad margins, counts, columns)."""


class PublishError(CtDataError):
    """The data does not fit the portal's dataset (schema drift, types, row identifiers)."""


class PortalError(CtDataError):
    """The portal answered in a way the pipeline cannot use."""


class PortalRefusedError(PortalError):
    """The portal refused a request (a 4xx other than 429): resending it cannot succeed.
    `status` is the HTTP status, so a caller can tell "not there" (404) from "not allowed"."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PortalUnavailableError(PortalError):
    """The portal kept throttling (429), failing (5xx) or timing out past the retry budget."""

    retryable = True


class AmbiguousWriteError(PortalError):
    """A non-idempotent write failed in a way that leaves unknown whether the portal applied it.
    The engine reads the portal back and re-plans; if that keeps happening the task retries."""

    retryable = True

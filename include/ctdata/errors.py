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


class SourceValueError(SourceError):
    """A value of the source does not fit its column: carries the dataset, the column, the row
    (1 for the first data row, as a person counts) and, when the table is published as it is,
    the value itself (`None` otherwise: a private source's values stay out of messages)."""

    def __init__(
        self,
        message: str,
        *,
        dataset: str = "",
        column: str = "",
        row: int | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(message)
        self.dataset, self.column, self.row, self.value = dataset, column, row, value


# Failures of libraries and Airflow that no retry can fix, by the class names in their MRO (so
# this module imports none of them): data that does not convert, code or configuration errors.
_TERMINAL_CLASS_NAMES = frozenset(
    {
        "ArrowInvalid",
        "ArrowTypeError",
        "ArrowNotImplementedError",
        "ValueError",  # includes pydantic's ValidationError and UnicodeDecodeError
        "TypeError",
        "LookupError",  # KeyError, IndexError
        "AttributeError",
        "NameError",
        "ImportError",
        "NotImplementedError",
        "AirflowNotFoundException",  # a connection or variable that is not defined
        "FileNotFoundError",
        "PermissionError",
        "IsADirectoryError",
        "NotADirectoryError",
    }
)
# ... and those a later attempt may get past (networks, databases, timeouts).
_TRANSIENT_CLASS_NAMES = frozenset(
    {
        "ConnectionError",  # builtins' and requests'
        "TimeoutError",
        "Timeout",  # requests
        "ChunkedEncodingError",
        "OperationalError",  # SQLAlchemy / DB-API: the database is down or busy
        "InterfaceError",
        "AirflowTaskTimeout",
        "AirflowTaskTerminated",
    }
)
_HTTP_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504, 520, 522, 524})


def retry_can_help(error: BaseException) -> bool:
    """Can a later attempt of the same task succeed where this one failed?

    The pipeline's own errors say so themselves (`CtDataError.retryable`); an HTTP error from
    a library is retryable for 429, 5xx and timeouts only (any other 4xx is a refusal); other
    errors are judged by their class: data that does not convert, a missing connection or a
    bug fail at once, network and database outages are retried. Unknown errors are retried,
    so a failure nobody foresaw still gets the benefit of the doubt."""
    if isinstance(error, CtDataError):
        return error.retryable
    status = getattr(getattr(error, "response", None), "status_code", None)
    if isinstance(status, int):
        return status in _HTTP_RETRYABLE
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & _TRANSIENT_CLASS_NAMES:
        return True
    return not names & _TERMINAL_CLASS_NAMES

"""Why a step failed, in words that may go anywhere: the Open Data view, e-mail, the portal's
run-log dataset. Never a data value, never a secret.

Error messages of some steps quote the data to help the engineer reading the task log (a
publishing error shows the offending rows, older validation messages show example values):
those messages stay in the log. What leaves is the error's kind in plain language plus only
the parts of a message that are built without data: a spec's file and field, a connection
problem, the failing expectations of a validation with their counts.
"""

from __future__ import annotations

import re

from ctdata.errors import (
    AmbiguousWriteError,
    ConfigurationError,
    CtDataError,
    DisclosureError,
    PortalError,
    PortalRefusedError,
    PortalUnavailableError,
    PublishError,
    SourceError,
    SourceUnavailableError,
    SpecError,
    ValidationFailed,
)
from ctdata.preflight import PreflightFailed

# Messages of these errors are written without data values: their first line may be shown.
_SAFE_MESSAGES: tuple[type[CtDataError], ...] = (
    PreflightFailed,  # names connections, settings and spec fields, never data
    SpecError,
    ConfigurationError,
    SourceUnavailableError,
    PortalUnavailableError,
    AmbiguousWriteError,
)

KIND: dict[type[CtDataError], str] = {
    PreflightFailed: "Checks before any work found something the run needs missing",
    SpecError: "The agency's spec is invalid",
    ConfigurationError: "The installation is misconfigured",
    SourceUnavailableError: "The source system could not be reached",
    SourceError: "The source's data could not be used as the spec describes it",
    ValidationFailed: "The data broke its Great Expectations rules; nothing was published",
    DisclosureError: "The table could not be aggregated or protected as the spec asks",
    PublishError: "The data does not fit the portal dataset (columns, types or row ids)",
    PortalRefusedError: "The portal refused a request",
    PortalUnavailableError: "The portal kept failing or throttling past the retry budget",
    AmbiguousWriteError: "The portal did not confirm a write",
    PortalError: "The portal answered in a way the pipeline cannot use",
}

# Failures raised by Airflow itself, by class name (the library does not import Airflow).
AIRFLOW_KINDS = {
    "AirflowTaskTimeout": "The task ran longer than its time limit (execution_timeout)",
    "AirflowTaskTerminated": "The task was stopped from outside (killed or its worker lost)",
    "AirflowSensorTimeout": "A sensor gave up waiting",
}

_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/\s:@]+:[^@\s]+@", re.IGNORECASE)
_LOG_HINT = "The details are in the task's log."
MAX_REASON = 2000


def scrub_credentials(text: str) -> str:
    """Drop `user:password@` from any URL in the text."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def root_error(error: BaseException) -> BaseException:
    """The pipeline's own error behind Airflow's wrapping (fail_fast raises `from` it)."""
    seen = error
    while seen is not None:
        if isinstance(seen, CtDataError):
            return seen
        seen = seen.__cause__  # type: ignore[assignment]
    return error


def error_type(error: BaseException) -> str:
    return type(root_error(error)).__name__


def failure_reason(error: BaseException) -> str:
    """One paragraph on why the step failed, safe to show to anyone who may see the run."""
    error = root_error(error)
    if isinstance(error, ValidationFailed):
        return validation_reason(str(error))
    kind = _kind(error)
    if isinstance(error, PortalRefusedError) and error.status:
        return f"{kind} (HTTP {error.status}). {_LOG_HINT}"
    if isinstance(error, _SAFE_MESSAGES):
        first = scrub_credentials(str(error).strip().splitlines()[0] if str(error).strip() else "")
        return f"{kind}: {first}"[:MAX_REASON] if first else f"{kind}. {_LOG_HINT}"
    return f"{kind} ({type(error).__name__}). {_LOG_HINT}"


def _kind(error: BaseException) -> str:
    for cls in type(error).__mro__:
        if cls in KIND:
            return KIND[cls]  # type: ignore[index]
    name = type(error).__name__
    return AIRFLOW_KINDS.get(name, f"The step failed with {name}")


_FAILURE_LINE = re.compile(r"^\s+- (\[.*)$")


def validation_reason(message: str) -> str:
    """The failing expectations of a ValidationFailed message, each with its counts, without
    the example values some messages add (everything from ', e.g.' on a line is dropped)."""
    lines = message.strip().splitlines()
    kept = [lines[0]] if lines else [KIND[ValidationFailed]]
    for line in lines[1:]:
        match = _FAILURE_LINE.match(line)
        if match:
            kept.append("- " + match.group(1).split(", e.g.")[0].split(": observed")[0])
    return "\n".join(kept)[:MAX_REASON]


def validation_failures(summary: dict) -> list[str]:
    """The failing expectations of a stored validation summary, as lines with counts only."""
    lines = []
    for outcome in summary.get("outcomes") or []:
        if outcome.get("success"):
            continue
        where = f" on column '{outcome['column']}'" if outcome.get("column") else ""
        count = outcome.get("unexpected_count")
        counted = f": {count} unexpected value(s)" if count is not None else ""
        if outcome.get("exception"):  # its type only: the message may quote the data
            counted = f": could not be evaluated ({str(outcome['exception']).split(' ', 1)[0]})"
        percent = outcome.get("unexpected_percent")
        if count is not None and percent is not None:
            counted += f" ({float(percent):.2f}% of rows checked)"
        lines.append(f"[{outcome.get('suite')}] {outcome.get('expectation_type')}{where}{counted}")
    return lines


def kept_validation_reason(reason: str, kept: dict | None) -> str:
    """With the validation summary a run kept, its failing expectations (counts only) replace
    the ones read from the error message."""
    failures = validation_failures(kept or {})
    if not failures:
        return reason
    return "\n".join([reason.splitlines()[0], *(f"- {line}" for line in failures)])

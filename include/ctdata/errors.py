"""Exceptions meant for users: each says what is wrong, where, and what to do."""

from __future__ import annotations


class CtDataError(Exception):
    """Base for every error the pipeline reports to a person rather than a traceback."""


class SpecError(CtDataError):
    """An agency spec (YAML) is invalid: names the file, the field and the reason."""


class SourceError(CtDataError):
    """Extracting from an agency's source system failed."""


class ValidationFailed(CtDataError):
    """A Great Expectations suite failed: nothing was published."""


class DisclosureError(CtDataError):
    """A table cannot be aggregated or suppressed as asked (bad margins, counts, columns)."""


class PublishError(CtDataError):
    """The portal refused data or the data does not fit the portal's dataset."""


class PortalError(CtDataError):
    """The portal answered with an error that retrying will not fix."""


class PortalRefusedError(PortalError):
    """The portal refused a request (a 4xx other than 429): resending it cannot succeed."""

"""Disclosure control on CSV files: what `ctdata suppress` and `ctdata audit` do, as functions.

The command line only parses arguments and prints; errors are DisclosureError naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ctdata.errors import DisclosureError

if TYPE_CHECKING:
    import pandas as pd

    from ctdata.disclosure.audit import AuditReport
    from ctdata.disclosure.suppression import SuppressionResult


def read_csv(path: Path) -> pd.DataFrame:
    """Read every column as text so labels like '01' or 'Total' survive untouched."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except OSError as exc:
        raise DisclosureError(f"{path}: cannot read ({exc.strerror})") from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DisclosureError(f"{path}: not a readable CSV ({exc})") from exc


def suppress_csv(spec_path: Path, input_path: Path, output_path: Path) -> SuppressionResult:
    """Suppress a CSV holding every cell and margin; write the same rows with empty cells."""
    from ctdata.disclosure.spec import SuppressionSpec
    from ctdata.disclosure.suppression import suppress

    spec = SuppressionSpec.from_yaml(spec_path)
    table = read_csv(input_path)
    try:
        result = suppress(table, spec)
    except DisclosureError as exc:
        raise DisclosureError(f"{input_path}: {exc}") from exc
    result.table.to_csv(output_path, index=False)
    return result


def audit_csv(
    spec_path: Path, published_path: Path, original_path: Path | None = None, *, exact: bool = True
) -> AuditReport:
    """LP audit of a published CSV (empty = suppressed); with the original, true values too.

    `exact=False` stops at proof of safety: bounds may then be inner ones.
    """
    from ctdata.disclosure.audit import audit_published
    from ctdata.disclosure.spec import SuppressionSpec

    spec = SuppressionSpec.from_yaml(spec_path)
    table = read_csv(published_path)
    original = read_csv(original_path) if original_path else None
    try:
        return audit_published(table, spec, original, exact_intervals=exact)
    except DisclosureError as exc:
        raise DisclosureError(f"{published_path}: {exc}") from exc

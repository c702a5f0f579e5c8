"""A validation result as a Great Expectations Data Docs page (static HTML), safe to open.

GX's own site builder writes through its stores (local folder, boto3, GCS, Azure) and keeps an
index; here each page is rendered with GX's renderer and view and handed to the `ResultStore`,
which writes through fsspec like the staging area does. The result must be redacted first.

GX's templates do not autoescape and GX escapes only some template parameters, so every
string of the result (column names, observed values, expectation arguments, exception notes)
is HTML-escaped here, once, and GX's own partial escaping is turned off so nothing shows
twice escaped. The page then goes through `sanitize` (scripts, handlers, remote assets out),
and again each time the view serves it, where its stylesheets and images are files of the
installed packages (`ASSETS`: Bootstrap 4 from xstatic-bootstrap, GX's images, a stylesheet
of ours standing in for GX's scripts and icon font), never a CDN.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from ctdata.validation.sanitize import asset_name, sanitize

OWN_STYLESHEET = "ctdata-data-docs.css"
HOME = "index.html"  # GX's link to the site's index, which a kept page goes without


@dataclass(frozen=True)
class Asset:
    path: Path
    media_type: str


@cache
def assets() -> dict[str, Asset]:
    """The files a Data Docs page may load, by name: read from the installed packages."""
    images = Path(str(files("great_expectations"))) / "render/view/static/images"
    bootstrap = Path(str(files("xstatic.pkg.bootstrap"))) / "data/css/bootstrap.min.css"
    own = Path(str(files("ctdata.validation"))) / "static" / OWN_STYLESHEET
    found = {
        "bootstrap.min.css": Asset(bootstrap, "text/css"),
        OWN_STYLESHEET: Asset(own, "text/css"),
        "favicon.ico": Asset(images / "favicon.ico", "image/x-icon"),
        "logo-long.png": Asset(images / "logo-long.png", "image/png"),
    }
    return {name: asset for name, asset in found.items() if asset.path.is_file()}


def escaped(value: Any) -> Any:
    """`value` with every string (dict keys too) HTML-escaped, quotes included."""
    if isinstance(value, str):
        return html.escape(value, quote=True)
    if isinstance(value, dict):
        return {escaped(k) if isinstance(k, str) else k: escaped(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(escaped(v) for v in value)
    return value


def escape_result(suite_result: Any) -> Any:
    """A copy of a GX suite validation result whose every string is HTML-escaped."""
    safe = copy.deepcopy(suite_result)
    safe.suite_name = escaped(safe.suite_name)
    safe.meta = escaped(dict(safe.meta or {}))
    safe.statistics = escaped(dict(safe.statistics or {}))
    safe.suite_parameters = escaped(dict(safe.suite_parameters or {}))
    for evr in safe.results:
        evr.result = escaped(dict(evr.result or {}))
        evr.exception_info = escaped(evr.exception_info)
        evr.meta = escaped(dict(evr.meta or {}))
        config = evr.expectation_config
        if config is not None:
            config.kwargs = escaped(dict(config.kwargs))
            config.meta = escaped(dict(config.meta or {}))
            config.notes = escaped(config.notes)
            config.description = escaped(config.description)
    return safe


@cache
def _view() -> Any:
    from great_expectations.render.view import DefaultJinjaPageView

    class EscapedInputPageView(DefaultJinjaPageView):
        """GX's page view for input escaped beforehand (escaping again would show `&lt;`)."""

        @staticmethod
        def _escape_template_param_value(value: Any) -> Any:
            return value

    return EscapedInputPageView()


def render_page(suite_result: Any, title: str, run_id: str, finished: dt.datetime) -> str:
    """The Data Docs HTML of one suite's (redacted) validation result, values escaped."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    result = copy.deepcopy(suite_result)
    result.meta["run_id"] = {"run_name": f"{title} {run_id}", "run_time": finished.isoformat()}
    document = ValidationResultsPageRenderer().render(escape_result(result))
    page = _view().render(document)
    return sanitize(with_own_stylesheet(page), {name: name for name in assets()}, _home_only)


def _home_only(target: str) -> str | None:
    """Links kept in a stored page: GX's "Home" (the view points it at the dataset's page)."""
    return HOME if asset_name(target) == HOME else None


def with_own_stylesheet(page: str) -> str:
    """The page with our stylesheet linked after the others (GX's own CSS comes first)."""
    link = f'<link rel="stylesheet" href="{OWN_STYLESHEET}">'
    if OWN_STYLESHEET in page:
        return page
    head_end = page.lower().find("</head>")
    return page[:head_end] + link + page[head_end:] if head_end >= 0 else link + page


def served_page(page: str, static_url: str, home_url: str | None) -> str:
    """A kept page as the view serves it: sanitized again (pages kept by older versions
    too), its assets from `static_url`, GX's "Home" link to `home_url`, other links leaving
    the page dropped."""
    local = {name: f"{static_url}/{name}" for name in assets()}

    def link(target: str) -> str | None:
        return home_url if _home_only(target) else None

    return sanitize(with_own_stylesheet(page), local, link)

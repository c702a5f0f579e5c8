"""Serving the Data Docs pages the validation step kept, so that nothing in them can run.

A page holds values from the data (column names, observed values): it is escaped when it is
rendered and sanitized again here (`ctdata.validation.data_docs.served_page`), and it goes out
under a Content-Security-Policy that forbids every script and sandboxes the document (it gets
no access to the view's origin, its cookies or Airflow's REST API even if markup slipped
through), with `nosniff` so a browser never reads a result as a page. Only `.html` pages are
served as HTML; a kept `.json` result goes out as `application/json`. The pages' stylesheets
and images are files of the installed packages (`assets()`), never a CDN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response

if TYPE_CHECKING:
    from ctdata.monitoring.views import OpenDataViews

DATA_DOCS_CSP = (
    "default-src 'none'; script-src 'none'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
)
DATA_DOCS_HEADERS = {
    "Content-Security-Policy": DATA_DOCS_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
}
ASSET_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}


async def no_sniffing(request: Any, call_next: Any) -> Any:
    """Every answer of the view says what it is: browsers must not guess another type."""
    response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def data_docs_response(url: str, who: Any, root: str, views: OpenDataViews) -> Response:
    """The kept page (or result) at `url`, for a user who may see its agency; 404 otherwise.
    Pages are kept as <root>/<agency>/<dataset>/<run>/<stage>/<suite>.html."""
    from ctdata.validation import ResultStore
    from ctdata.validation.data_docs import served_page

    store = ResultStore()
    inside = url.removeprefix(str(store.root).rstrip("/") + "/").split("/")
    if not who.allows(inside[0]):
        raise HTTPException(404, "No such Data Docs page")
    try:
        text = str(store.read_page(url))
    except (ValueError, FileNotFoundError):
        raise HTTPException(404, "No such Data Docs page") from None
    if url.endswith(".json"):
        return Response(text, media_type="application/json", headers=DATA_DOCS_HEADERS)
    key = views.key_of(inside[0], inside[1]) if len(inside) > 1 else None
    home = f"{root}/datasets/{key}" if key else f"{root}/"
    page = served_page(text, f"{root}/data-docs/static", home)
    return HTMLResponse(page, headers=DATA_DOCS_HEADERS)


def asset_response(name: str) -> Response:
    from ctdata.validation.data_docs import assets

    asset = assets().get(name)
    if asset is None:
        raise HTTPException(404, "No such asset")
    return FileResponse(asset.path, media_type=asset.media_type, headers=ASSET_HEADERS)

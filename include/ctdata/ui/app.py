"""The Open Data view's FastAPI app: `/` (overview), `/datasets/{key}` (dataset page),
`/api/overview`, `/api/datasets`, `/api/datasets/{key}`; a dataset's key is its portal id, or
`<agency>.<slug>` before the pipeline has created it (ctdata.lifecycle.registry.dataset_key).

Every route depends on `access`, a FastAPI dependency returning an `Access`: it raises (401,
403, or a redirect to a login page) for anyone not logged in, and names the agencies the user
may see. Nothing is served without it.
"""

# No `from __future__ import annotations` here: FastAPI reads the routes' annotations, and the
# dependency types are built inside create_app, where string annotations could not be resolved.
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse

from ctdata.monitoring.schedule import STATE_TIMEZONE
from ctdata.monitoring.views import Filters, Links, OpenDataViews
from ctdata.ui import pages

PAGE_ROWS = 100  # datasets listed on the overview before "show all" (failing, overdue first)


@dataclass(frozen=True)
class Access:
    """Who is asking and what they may see (`agencies` None: every agency)."""

    user: str
    agencies: frozenset[str] | None = None

    def allows(self, agency: str) -> bool:
        return self.agencies is None or agency in self.agencies


class ViewSource:
    """The read models, opened once per app (engines pool their connections)."""

    def __init__(self, links: Callable[[], Links]) -> None:
        self._links = links

    @cached_property
    def views(self) -> OpenDataViews:
        return OpenDataViews(links=self._links())


def create_app(
    access: Callable[..., Any],
    *,
    links: Callable[[], Links],
    root: str = "",
    page_access: Callable[..., Any] | None = None,
) -> FastAPI:
    """The app; `root` is the URL prefix it is mounted under (for links between its pages),
    `page_access` the dependency for HTML pages (e.g. one that redirects to a login page)."""
    app = FastAPI(title="CT Open Data view", docs_url=None, redoc_url=None, openapi_url=None)
    source = ViewSource(links)
    ApiAccess = Annotated[Access, Depends(access)]
    PageAccess = Annotated[Access, Depends(page_access or access)]

    def filters(
        agency: Annotated[str | None, Query()] = None,
        category: Annotated[str | None, Query()] = None,
        status: Annotated[str | None, Query()] = None,
    ) -> Filters:
        return Filters(agency or None, category or None, status or None)

    FilterDep = Annotated[Filters, Depends(filters)]

    def dataset_for(key: str, who: Access) -> dict[str, Any]:
        page = source.views.dataset(key)
        if page is None or not who.allows(page["agency"]):
            raise HTTPException(404, f"No dataset {key!r} that you may see")
        return page

    @app.get("/api/datasets")
    def api_datasets(who: ApiAccess, chosen: FilterDep) -> dict[str, Any]:
        rows = source.views.datasets(who.agencies, chosen)
        return {"count": len(rows), "datasets": rows}

    @app.get("/api/datasets/{key}")
    def api_dataset(key: str, who: ApiAccess) -> dict[str, Any]:
        return dataset_for(key, who)

    @app.get("/api/overview")
    def api_overview(who: ApiAccess, chosen: FilterDep) -> dict[str, Any]:
        return source.views.overview(who.agencies, chosen)

    @app.get("/", response_class=HTMLResponse)
    def overview_page(
        who: PageAccess, chosen: FilterDep, show: Annotated[str | None, Query()] = None
    ) -> str:
        data = source.views.overview(who.agencies, chosen)
        limit = None if show == "all" else PAGE_ROWS
        return pages.render(
            "overview.html", root=root, user=who.user, chosen=chosen, limit=limit, **data
        )

    @app.get("/datasets/{key}", response_class=HTMLResponse)
    def dataset_page(key: str, who: PageAccess) -> str:
        page = dataset_for(key, who)
        today = dt.datetime.now(STATE_TIMEZONE).date()
        charts = pages.usage_charts(page["usage_series"], today)
        return pages.render("dataset.html", root=root, user=who.user, d=page, charts=charts)

    @app.get("/data-docs", response_class=HTMLResponse)
    def data_docs(page: Annotated[str, Query()], who: PageAccess) -> str:
        """A Great Expectations Data Docs page the validation step kept (under its root only)."""
        return read_data_docs(page, who)

    return app


def read_data_docs(url: str, who: Access) -> str:
    """The page from the validation package's result store, which refuses paths outside its
    root (kept as <root>/<agency>/...: only for users who may see that agency); 404 where this
    installation keeps no Data Docs."""
    try:
        from ctdata.validation import ResultStore
    except (ImportError, AttributeError):
        raise HTTPException(404, "Data Docs are not kept by this installation") from None
    store = ResultStore()
    agency = url.removeprefix(str(store.root).rstrip("/") + "/").split("/", 1)[0]
    if not who.allows(agency):
        raise HTTPException(404, "No such Data Docs page")
    try:
        return str(store.read_page(url))
    except (ValueError, FileNotFoundError):
        raise HTTPException(404, "No such Data Docs page") from None

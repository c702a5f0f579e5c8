"""The Open Data view's FastAPI app: `/` (overview), `/datasets/{key}` (dataset page),
`/api/overview`, `/api/datasets`, `/api/datasets/{key}`; a dataset's key is its portal id, or
`<agency>.<slug>` before the pipeline has created it (ctdata.lifecycle.registry.dataset_key).

Every route depends on `access`, a FastAPI dependency returning an `Access`: it raises (401,
403, or a redirect to a login page) for anyone not logged in, and names the agencies the user
may see. Nothing is served without it but the Data Docs pages' stylesheets and images,
files of installed packages.
"""

# No `from __future__ import annotations` here: FastAPI reads the routes' annotations, and the
# dependency types are built inside create_app, where string annotations could not be resolved.
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from ctdata.monitoring.schedule import STATE_TIMEZONE
from ctdata.monitoring.views import Filters, Links, OpenDataViews, Reviews
from ctdata.ui import docs, pages

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

    def __init__(self, links: Callable[[], Links], reviews: Reviews | None = None) -> None:
        self._links, self._reviews = links, reviews

    @cached_property
    def views(self) -> OpenDataViews:
        return OpenDataViews(links=self._links(), reviews=self._reviews)


def create_app(
    access: Callable[..., Any],
    *,
    links: Callable[[], Links],
    root: str = "",
    page_access: Callable[..., Any] | None = None,
    reviews: Reviews | None = None,
) -> FastAPI:
    """The app; `root` is the URL prefix it is mounted under (for links between its pages),
    `page_access` the dependency for HTML pages (e.g. one that redirects to a login page),
    `reviews` what lists the reviews waiting for a decision (Airflow's, from the plugin)."""
    app = FastAPI(title="CT Open Data view", docs_url=None, redoc_url=None, openapi_url=None)
    app.middleware("http")(docs.no_sniffing)
    source = ViewSource(links, reviews)
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

    @app.api_route("/api/datasets", methods=["GET", "HEAD"])
    def api_datasets(who: ApiAccess, chosen: FilterDep) -> dict[str, Any]:
        rows = source.views.datasets(who.agencies, chosen)
        return {"count": len(rows), "datasets": rows}

    @app.api_route("/api/datasets/{key}", methods=["GET", "HEAD"])
    def api_dataset(key: str, who: ApiAccess) -> dict[str, Any]:
        return dataset_for(key, who)

    @app.api_route("/api/overview", methods=["GET", "HEAD"])
    def api_overview(who: ApiAccess, chosen: FilterDep) -> dict[str, Any]:
        return source.views.overview(who.agencies, chosen)

    @app.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def overview_page(
        who: PageAccess, chosen: FilterDep, show: Annotated[str | None, Query()] = None
    ) -> str:
        data = source.views.overview(who.agencies, chosen)
        limit = None if show == "all" else PAGE_ROWS
        return pages.render(
            "overview.html", root=root, user=who.user, chosen=chosen, limit=limit, **data
        )

    @app.api_route("/datasets/{key}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def dataset_page(key: str, who: PageAccess) -> str:
        page = dataset_for(key, who)
        today = dt.datetime.now(STATE_TIMEZONE).date()
        charts = pages.usage_charts(page["usage_series"], today)
        return pages.render("dataset.html", root=root, user=who.user, d=page, charts=charts)

    @app.api_route("/data-docs", methods=["GET", "HEAD"])
    def data_docs(page: Annotated[str, Query()], who: PageAccess) -> Response:
        """A Great Expectations Data Docs page the validation step kept (under its root only),
        or its result as JSON; never a script (see `docs.DATA_DOCS_HEADERS`)."""
        return docs.data_docs_response(page, who, root, source.views)

    @app.api_route("/data-docs/static/{name}", methods=["GET", "HEAD"])
    def data_docs_asset(name: str) -> Response:
        """The pages' stylesheets and images: files of the installed packages, no data, so
        served to anyone (a sandboxed page loads them without the session)."""
        return docs.asset_response(name)

    return app

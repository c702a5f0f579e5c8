"""Typed models of a dataset's `source:` block: where its rows come from (ctdata.sources reads
them). One model per kind, told apart by `kind`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from ctdata.yaml_models import Strict

CRS_HELP = (
    "the coordinate reference system the source's coordinates are in, e.g. 'EPSG:2234' "
    "(NAD83 / Connecticut State Plane, US feet); reprojected to EPSG:4326 for the portal"
)


class GeometryColumns(Strict):
    """A geometry built from a tabular source's columns: a WKT or GeoJSON column, or a
    longitude and a latitude column (x and y in a projected `crs`)."""

    output: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")] = Field(
        description="the column that receives the geometry (as GeoJSON, EPSG:4326)"
    )
    wkt: str | None = Field(default=None, description="column holding well-known text")
    geojson: str | None = Field(default=None, description="column holding GeoJSON geometries")
    longitude: str | None = Field(default=None, description="column of longitudes (or x)")
    latitude: str | None = Field(default=None, description="column of latitudes (or y)")
    crs: str = Field(default="EPSG:4326", description=CRS_HELP)
    drop: bool = Field(default=True, description="drop the columns the geometry came from")

    @model_validator(mode="after")
    def _one_form(self) -> GeometryColumns:
        forms = [self.wkt is not None, self.geojson is not None, self.longitude is not None]
        if sum(forms) != 1 or (self.longitude is None) != (self.latitude is None):
            raise ValueError("give one of 'wkt', 'geojson', or both 'longitude' and 'latitude'")
        return self

    @property
    def inputs(self) -> list[str]:
        return [c for c in (self.wkt, self.geojson, self.longitude, self.latitude) if c]


class SqlSource(Strict):
    """A query run through SQLAlchemy. `url` may hold ${ENV_VAR}s; `conn_id` names an Airflow
    connection instead (its URI is used), so credentials stay out of the spec."""

    kind: Literal["sql"]
    query: str
    url: str | None = None
    conn_id: str | None = None
    params: dict[str, str | int | float] = {}
    geometry: GeometryColumns | None = None

    @model_validator(mode="after")
    def _one_location(self) -> SqlSource:
        if (self.url is None) == (self.conn_id is None):
            raise ValueError("give exactly one of 'url' (SQLAlchemy URL) or 'conn_id'")
        return self


class CsvSource(Strict):
    """A delimited file; a relative path is resolved against the spec's folder."""

    kind: Literal["csv"]
    path: str
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    geometry: GeometryColumns | None = None


class Paging(Strict):
    """How an API splits its answer into pages. Pages are read until the API says there are
    no more (an empty page, no next link or cursor); `total_path` checks the count at the end,
    so a run never publishes a partial read."""

    style: Literal["none", "offset", "page", "next_link", "link_header", "cursor"] = "none"
    page_size: Annotated[int, Field(ge=1, le=100_000)] = 100
    size_param: str | None = Field(
        default=None, description="query parameter of the page size (offset: 'limit')"
    )
    offset_param: str = "offset"
    page_param: str = "page"
    first_page: int = 1
    next_path: str = Field(default="next", description="dotted path of the next page's URL")
    cursor_path: str = Field(default="next_cursor", description="dotted path of the cursor")
    cursor_param: str = "cursor"
    total_path: str | None = Field(
        default=None, description="dotted path of the total record count, checked at the end"
    )
    max_pages: Annotated[int, Field(ge=1)] = 100_000

    @property
    def size_name(self) -> str:
        return self.size_param or ("limit" if self.style == "offset" else "per_page")


class HttpRetry(Strict):
    """Retries of one request (a page): on 429, 5xx, timeouts and dropped connections, waiting
    as long as the API's Retry-After says, else exponentially."""

    attempts: Annotated[int, Field(ge=1, le=20)] = 6
    backoff_seconds: Annotated[float, Field(ge=0)] = 2.0
    max_wait_seconds: Annotated[float, Field(ge=0)] = 300.0


class HttpSource(Strict):
    """A JSON or CSV HTTP API read through Airflow's HTTP provider (`conn_id`: its host,
    scheme, port, login/password and extra headers), page by page."""

    kind: Literal["http"]
    conn_id: str
    endpoint: str
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str | int | float] = {}
    format: Literal["json", "csv"] = "json"
    records_path: str | None = Field(
        default=None, description="dotted path to the list of records in a JSON answer"
    )
    auth: Literal["basic", "digest"] = Field(
        default="basic", description="how the connection's login and password are sent"
    )
    paging: Paging = Paging()
    retry: HttpRetry = HttpRetry()
    timeout_seconds: Annotated[float, Field(gt=0)] = 120
    geometry: GeometryColumns | None = None


class _FeatureSource(Strict):
    """Shared by the geospatial sources: each feature's properties become columns (renamed by
    `rename`), its geometry the `geometry_field` column, reprojected to EPSG:4326."""

    rename: dict[str, str] = Field(default={}, description="feature property -> column field")
    geometry_field: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$")] = "geometry"


class GeoJsonSource(_FeatureSource):
    """A GeoJSON FeatureCollection file. Its coordinates are EPSG:4326 unless the file's legacy
    `crs` member or the spec's `crs` names another system."""

    kind: Literal["geojson"]
    path: str
    crs: str | None = Field(default=None, description=CRS_HELP)


class ShapefileSource(_FeatureSource):
    """A zipped ESRI shapefile (.shp, .shx, .dbf, and the .prj that gives its coordinate
    system unless `crs` does)."""

    kind: Literal["shapefile"]
    path: str
    crs: str | None = Field(default=None, description=CRS_HELP)
    layer: str | None = Field(default=None, description="the .shp inside the zip, if several")
    encoding: str = Field(default="utf-8", description="of the .dbf, unless its .cpg says")


class ArcGisSource(_FeatureSource):
    """An ArcGIS REST feature layer (FeatureServer or MapServer layer) read through its
    `/query` operation in pages (resultOffset/resultRecordCount), as GeoJSON in EPSG:4326."""

    kind: Literal["arcgis"]
    conn_id: str = Field(description="Airflow HTTP connection of the ArcGIS server")
    layer: str = Field(
        description="the layer's path, e.g. 'arcgis/rest/services/X/FeatureServer/0'"
    )
    where: str = "1=1"
    out_fields: list[str] = ["*"]
    page_size: Annotated[int, Field(ge=1, le=100_000)] = 1000
    retry: HttpRetry = HttpRetry()
    timeout_seconds: Annotated[float, Field(gt=0)] = 120


Source = Annotated[
    SqlSource | CsvSource | HttpSource | GeoJsonSource | ShapefileSource | ArcGisSource,
    Field(discriminator="kind"),
]

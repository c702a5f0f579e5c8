"""Extraction from each source kind, and the errors people see when a source is wrong."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from ctdata.errors import ConfigurationError, SourceError, SourceUnavailableError
from ctdata.sources import extract
from ctdata.specs.models import DatasetSpec
from tests.sources.support import METADATA

BASE = {
    "slug": "towns",
    "portal_id": "abcd-1234",
    "metadata": {**METADATA, "update_frequency": "As needed"},
    "columns": [{"name": "Town", "field": "town", "type": "text", "description": "Town name"}],
    "row_identifier": "town",
}


def _dataset(source: dict) -> DatasetSpec:
    return DatasetSpec.model_validate({**BASE, "source": source})


def test_sql_source_runs_the_query_with_params(tmp_path: Path, monkeypatch) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'src.db'}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (town TEXT, county TEXT)"))
        connection.execute(
            sa.text("INSERT INTO t VALUES ('Andover', 'Tolland'), ('Avon', 'Hartford')")
        )
    monkeypatch.setenv("SRC_DIR", str(tmp_path))
    frame = extract(
        _dataset(
            {
                "kind": "sql",
                "url": "sqlite:///${SRC_DIR}/src.db",
                "query": "SELECT town FROM t WHERE county = :county",
                "params": {"county": "Hartford"},
            }
        )
    )
    assert frame["town"].tolist() == ["Avon"]


def test_sql_errors_name_the_dataset_and_hide_the_password(tmp_path: Path) -> None:
    sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect().close()  # an empty db
    dataset = _dataset(
        {"kind": "sql", "url": f"sqlite:///{tmp_path / 'empty.db'}", "query": "SELECT * FROM nope"}
    )
    with pytest.raises(SourceError, match="dataset 'towns' .*no such table: nope") as bad_query:
        extract(dataset)
    assert type(bad_query.value) is SourceError and not bad_query.value.retryable
    hidden = _dataset(
        {"kind": "sql", "url": "postgresql://u:s3cret@127.0.0.1:1/db", "query": "SELECT 1"}
    )
    with pytest.raises(
        SourceUnavailableError, match=r"postgresql://u:\*\*\*@127\.0\.0\.1:1/db"
    ) as down:
        extract(hidden)
    assert down.value.retryable, "a database that is down may be up at the next attempt"
    assert "s3cret" not in str(down.value)


def test_missing_environment_variable_is_named() -> None:
    dataset = _dataset(
        {"kind": "sql", "url": "sqlite:///${NOT_SET_ANYWHERE}/x.db", "query": "SELECT 1"}
    )
    with pytest.raises(ConfigurationError, match="NOT_SET_ANYWHERE not set") as raised:
        extract(dataset)
    assert not raised.value.retryable


def test_csv_source_relative_to_the_agencies_folder(tmp_path: Path) -> None:
    (tmp_path / "towns.csv").write_text("town,county\nAndover,Tolland\n")
    frame = extract(_dataset({"kind": "csv", "path": "towns.csv"}), agencies_dir=tmp_path)
    assert frame.to_dict("records") == [{"town": "Andover", "county": "Tolland"}]
    with pytest.raises(SourceUnavailableError, match="does not exist"):  # a drop not yet there
        extract(_dataset({"kind": "csv", "path": "missing.csv"}), agencies_dir=tmp_path)


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        status = {"/down": 503, "/gone": 404}.get(self.path.split("?")[0], 200)
        body = json.dumps({"data": {"items": [{"town": "Andover"}, {"town": "Avon"}]}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_source_through_the_airflow_http_provider(monkeypatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_TOWNS_API", f"http://127.0.0.1:{server.server_port}")
        source = {
            "kind": "http",
            "conn_id": "towns_api",
            "endpoint": "/towns",
            "records_path": "data.items",
        }
        assert extract(_dataset(source))["town"].tolist() == ["Andover", "Avon"]
        wrong = {**source, "records_path": "data.rows"}
        with pytest.raises(SourceError, match="no 'rows' along records_path"):
            extract(_dataset(wrong))
    finally:
        server.shutdown()


def test_http_errors_say_whether_a_retry_can_help(monkeypatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    try:
        monkeypatch.setenv("AIRFLOW_CONN_TOWNS_API", f"http://127.0.0.1:{port}")
        # Retried as the spec says, without the default backoff's two minutes of sleeping.
        quick = {"attempts": 3, "backoff_seconds": 0.01, "max_wait_seconds": 0.05}
        source = {"kind": "http", "conn_id": "towns_api", "records_path": "data.items",
                  "retry": quick}  # fmt: skip
        with pytest.raises(SourceUnavailableError, match="HTTP 503"):
            extract(_dataset({**source, "endpoint": "/down"}))
        with pytest.raises(SourceError, match="HTTP 404") as gone:
            extract(_dataset({**source, "endpoint": "/gone"}))
        assert not gone.value.retryable
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(SourceUnavailableError, match="ConnectionError"):  # nothing listens now
        extract(_dataset({**source, "endpoint": "/towns"}))

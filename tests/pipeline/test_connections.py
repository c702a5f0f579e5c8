"""Source connections: Airflow's connections and the command line's AIRFLOW_CONN_* variables
give the same URLs, and secrets never show."""

from __future__ import annotations

import json

import pytest

from ctdata.connections import SourceConnection, environment_connection
from ctdata.errors import ConfigurationError


def test_uri_form_gives_a_sqlalchemy_url(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OCME_DB", "postgres://reader:p%40ss@db.ct.gov:5432/cases")
    connection = environment_connection("ocme_db")
    assert connection.sqlalchemy_url() == "postgresql+psycopg://reader:p%40ss@db.ct.gov:5432/cases"
    assert "p@ss" not in repr(connection)


def test_json_form_and_sqlite(monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LOCAL", json.dumps({"conn_type": "sqlite", "host": "/data/cases.db"})
    )
    assert environment_connection("local").sqlalchemy_url() == "sqlite:////data/cases.db"
    monkeypatch.setenv("AIRFLOW_CONN_FILE_DB", "sqlite:///data/cases.db")
    assert environment_connection("file_db").sqlalchemy_url() == "sqlite:////data/cases.db"


def test_http_connection_base_url(monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_API", "https://user:secret@api.ct.gov:8443")
    connection = environment_connection("api")
    assert connection.base_url() == "https://api.ct.gov:8443"
    assert (connection.login, connection.password) == ("user", "secret")


def test_airflow_connection_reads_the_same(monkeypatch) -> None:
    from airflow.sdk import Connection

    uri = "postgres://reader:pw@db.ct.gov:5432/cases"
    airflow = SourceConnection.from_airflow(Connection.from_uri(uri, conn_id="ocme_db"))
    monkeypatch.setenv("AIRFLOW_CONN_OCME_DB", uri)
    assert airflow.sqlalchemy_url() == environment_connection("ocme_db").sqlalchemy_url()


def test_missing_connection_says_which_variable() -> None:
    with pytest.raises(ConfigurationError, match="AIRFLOW_CONN_NOWHERE"):
        environment_connection("nowhere")

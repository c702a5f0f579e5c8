"""Every link on every page of the view works in the demo: a crawler signed in as OPM starts
at the overview and follows everything, the view's own pages and Data Docs (with their anchors,
stylesheets and images), the Airflow runs, tasks, DAGs and required actions they point to
(checked through Airflow's REST API, and opened in its UI), and the portal's dataset pages
(a private one must say it is private). No link may lead anywhere else."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import unquote, urljoin, urlsplit

import pytest
import requests

pytestmark = pytest.mark.e2e

AIRFLOW_ROUTES = [  # the Airflow UI's routes the view links to, and the REST call proving each
    (re.compile(r"^/dags/([^/]+)/runs/([^/]+)/tasks/([^/]+)/required_actions$"),
     "/api/v2/dags/{0}/dagRuns/{1}/taskInstances/{2}/-1/hitlDetails"),
    (re.compile(r"^/dags/([^/]+)/runs/([^/]+)/tasks/([^/]+)$"),
     "/api/v2/dags/{0}/dagRuns/{1}/taskInstances/{2}"),
    (re.compile(r"^/dags/([^/]+)/runs/([^/]+)$"), "/api/v2/dags/{0}/dagRuns/{1}"),
    (re.compile(r"^/dags/([^/]+)$"), "/api/v2/dags/{0}"),
]  # fmt: skip


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.assets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        if tag == "a" and found.get("href"):
            self.links.append(str(found["href"]))
        elif tag in ("link", "img", "script") and (found.get("href") or found.get("src")):
            self.assets.append(str(found.get("href") or found.get("src")))


def parse(page: str) -> Links:
    parser = Links()
    parser.feed(page)
    return parser


def crawl(ui, user: str = "opm") -> dict[str, list[str]]:
    """Every link found, by kind, each checked on the way; fails on the first broken one."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {ui.token(user)}"
    rows = session.get(f"{ui.url}/ctdata/api/datasets", timeout=60).json()["datasets"]
    visibility = {r["portal_url"]: r["visibility"] for r in rows if r["portal_url"]}
    todo, seen = [f"{ui.url}/ctdata/"], set()
    found: dict[str, list[str]] = {"view": [], "airflow": [], "portal": [], "asset": []}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        answer = session.get(url, timeout=60)
        assert answer.status_code == 200, (url, answer.status_code)
        if not answer.headers["content-type"].startswith("text/html"):
            continue
        page = parse(answer.text)
        for asset in page.assets:
            target = urljoin(url, asset)
            assert target.startswith(f"{ui.url}/ctdata/"), (url, asset)
            assert session.get(target, timeout=60).status_code == 200, (url, asset)
            found["asset"].append(target)
        for href in page.links:
            if href.startswith("#"):
                assert href[1:] in page.ids, (url, href)
                continue
            target = urljoin(url, href)
            if target.startswith(f"{ui.url}/ctdata/"):
                found["view"].append(target)
                todo.append(target.split("#", 1)[0])
            elif target.startswith(f"{ui.url}/"):
                check_airflow(session, ui.url, target, url)
                found["airflow"].append(target)
            elif target.startswith(ui.portal.url):
                check_portal(target, visibility, answer.text, url)
                found["portal"].append(target)
            else:
                pytest.fail(f"{url} links outside the view, Airflow and the portal: {href}")
    return found


def check_airflow(session: requests.Session, base: str, target: str, page: str) -> None:
    path = unquote(urlsplit(target).path)
    for route, api in AIRFLOW_ROUTES:
        match = route.match(path)
        if match:
            proof = session.get(base + api.format(*match.groups()), timeout=60)
            assert proof.status_code == 200, (page, target, proof.status_code, proof.text[:200])
            assert session.get(target, timeout=60).status_code == 200, (page, target)
            return
    pytest.fail(f"{page} links to an Airflow page the crawler does not know: {target}")


def check_portal(target: str, visibility: dict[str, str | None], text: str, page: str) -> None:
    """The public's view of the portal link: it opens, or the page says why it may not (the
    dataset is private, or its visibility is not recorded: OPM's own datasets)."""
    answer = requests.get(target, timeout=60, allow_redirects=True)
    if answer.status_code == 200:
        return
    assert visibility.get(target) in ("private", None), (page, target, answer.status_code)
    assert "(private:" in text or "(visibility not recorded:" in text, (page, target)


def test_every_link_of_the_demo_view_works(demo_ui) -> None:
    found = crawl(demo_ui)
    pages = {u.split("?", 1)[0] for u in found["view"]}
    assert {f"{demo_ui.url}/ctdata/datasets/{i}" for i in demo_ui.dataset_ids} <= pages
    assert f"{demo_ui.url}/ctdata/data-docs" in pages  # every kept Data Docs page, with its links
    assert any("/dags/publish_ocme/runs/" in u for u in found["airflow"])
    assert any(u.endswith("/dags/usage_metrics") for u in found["airflow"])  # OPM's datasets
    assert any("bootstrap.min.css" in u for u in found["asset"])
    assert len(found["portal"]) >= len(demo_ui.dataset_ids)


def test_every_link_of_a_failed_run_works(probe_ui) -> None:
    """A run that failed at validation: its Data Docs, its run, and no link to a task log the
    `airflow dags test` run did not keep (the page says why)."""
    found = crawl(probe_ui)
    assert any("/data-docs?" in u for u in found["view"])
    assert not [u for u in found["airflow"] if "/tasks/" in u]
    page = probe_ui.get("/ctdata/datasets/prob-e001", user="opm").text
    assert 'id="log-note"' in page and "airflow dags test" in page

"""Markup a source controls, end to end: a CSV with a column named as an HTML tag and a value
carrying a script goes through `airflow dags test` (its source validation fails on both); the
Data Docs page the run kept is fetched through the real API server as a signed-in user, then
opened from the dataset page in a real browser with the network cut."""

from __future__ import annotations

import html

import pytest

from tests.markup_checks import executable_markup, remote_references
from tests.ui.markup_probe import CASE_NUMBER, MARKUP_COLUMN, PROBE_ID

pytestmark = pytest.mark.e2e


def kept_page(probe_ui) -> str:
    """The Data Docs page of the run's source validation, as the view's API lists it."""
    page = probe_ui.get(f"/ctdata/api/datasets/{PROBE_ID}", user="opm").json()
    detail = page["last_run_detail"]
    assert detail["run_id"] == probe_ui.run_id and detail["failed_step"] == "validate_source"
    [suite] = detail["validation"]["validate_source"]["suites"]
    return suite["data_docs"]


def test_the_served_page_holds_the_markup_escaped_and_nothing_executable(probe_ui) -> None:
    docs = kept_page(probe_ui)
    answer = probe_ui.get("/ctdata/data-docs", user="opm", params={"page": docs})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "sandbox" in policy
    assert answer.headers["x-content-type-options"] == "nosniff"
    page = answer.text
    assert executable_markup(page) == [] and remote_references(page) == []
    assert MARKUP_COLUMN not in page and html.escape(MARKUP_COLUMN) in page
    assert "XSS2" not in page and CASE_NUMBER not in page  # values never kept
    assert "MetricResolutionError (its message is not kept" in page
    result = probe_ui.get(
        "/ctdata/data-docs", user="opm", params={"page": docs.removesuffix(".html") + ".json"}
    )
    assert result.headers["content-type"] == "application/json" and "XSS2" not in result.text
    assert probe_ui.get("/ctdata/data-docs", params={"page": docs}, allow_redirects=False
                        ).status_code == 303  # fmt: skip


def test_the_view_and_the_ledger_keep_the_column_escaped(probe_ui) -> None:
    page = probe_ui.get(f"/ctdata/datasets/{PROBE_ID}", user="opm").text
    assert MARKUP_COLUMN not in page and "&lt;img src=x onerror=" in page and "XSS2" not in page
    reason = probe_ui.get(f"/ctdata/api/datasets/{PROBE_ID}", user="opm").json()
    text = reason["last_run_detail"]["reason"]
    assert (
        "expect_column_mean_to_be_between on column 'county': could not be evaluated "
        "(MetricResolutionError)" in text
    )
    assert CASE_NUMBER not in str(reason) and "XSS2" not in str(reason)


def test_the_page_opened_from_the_dataset_page_runs_nothing_and_is_styled_offline(
    probe_ui, tmp_path
) -> None:
    """OPM's click, in Airflow's frame, with every host but this machine unreachable: the page
    comes styled from the installed packages' files, and the markup of the source never runs."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.ui.browser import NO_NETWORK, chromium, screenshot, shots, system_browser

    if system_browser() is None:
        pytest.skip("no chromium: run scripts/install_chromium.sh")
    with chromium(NO_NETWORK) as browser:
        wait = WebDriverWait(browser, 90)
        browser.get(f"{probe_ui.url}/plugin/open-data")
        wait.until(ec.element_to_be_clickable((By.NAME, "username"))).send_keys("opm")
        browser.find_element(By.NAME, "password").send_keys(probe_ui.password("opm"))
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, f"tr[data-key='{PROBE_ID}'] a")))
        # The "needs OPM" queue: the failing dataset, why, and who must act.
        failing = browser.find_element(By.CSS_SELECTOR, "#queue tr[data-kind='failing']")
        assert "OPM Agency Data Officer <opm.data@ct.gov>" in failing.text
        assert "Validation failed for dataset" in failing.text
        browser.switch_to.default_content()
        screenshot(browser, shots(tmp_path), "open-data-queue.png")
        browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
        browser.find_element(By.CSS_SELECTOR, f"tr[data-key='{PROBE_ID}'] a.dataset").click()
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "a.data-docs"))).click()
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "nav.navbar")))
        wait.until(lambda b: b.execute_script("return document.readyState") == "complete")
        browser.save_screenshot(str(tmp_path / "data-docs.png"))
        navbar = browser.find_element(By.CSS_SELECTOR, "nav.navbar")
        assert navbar.value_of_css_property("display") == "flex"  # Bootstrap's, served locally
        table = browser.find_element(By.CSS_SELECTOR, "table.table")
        assert table.value_of_css_property("border-collapse") == "collapse"
        loaded = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert loaded and all(url.startswith(probe_ui.url) for url in loaded), loaded
        assert "bootstrap.min.css" in " ".join(loaded)
        assert browser.execute_script("return document.title") != "XSS"
        browser.switch_to.default_content()
        assert browser.title not in ("XSS", "XSS2")

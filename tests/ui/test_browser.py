"""OPM's path in a real browser: log into Airflow, open "Open Data" from the navigation, see
the demo datasets with status and figures, open a dataset page, follow its link to the run.

Screenshots go to the test's folder, and to docs/ when CTDATA_SCREENSHOTS_DIR names it
(`CTDATA_SCREENSHOTS_DIR=docs pytest tests/ui/test_browser.py` refreshes the README's)."""

from __future__ import annotations

import subprocess

import pytest

from ctdata import settings
from tests.ui.browser import chromium, screenshot, shots, system_browser

pytestmark = pytest.mark.e2e

WAIT = 90


@pytest.fixture(scope="module")
def browser():
    if system_browser() is None:
        script = settings.PROJECT_ROOT / "scripts" / "install_chromium.sh"
        done = subprocess.run([str(script)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"no chromium: {done.stderr.strip()}")
    with chromium() as driver:
        yield driver


def test_opm_sees_the_open_data_view_and_follows_a_run(demo_ui, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    folders = shots(tmp_path)

    browser.get(f"{demo_ui.url}/plugin/open-data")
    user = wait.until(ec.element_to_be_clickable((By.NAME, "username")))
    user.send_keys("opm")
    browser.find_element(By.NAME, "password").send_keys(demo_ui.password("opm"))
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    # The Airflow UI with "Open Data" in its navigation, the view in its frame.
    wait.until(ec.presence_of_element_located((By.XPATH, "//a[contains(., 'Open Data')]")))
    if "/plugin/open-data" not in browser.current_url:
        browser.find_element(By.XPATH, "//a[contains(., 'Open Data')]").click()
    wait.until(ec.frame_to_be_available_and_switch_to_it((By.TAG_NAME, "iframe")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#datasets tr[data-key]")))
    rows = {
        row.get_attribute("data-key"): row.text
        for row in browser.find_elements(By.CSS_SELECTOR, "#datasets tr[data-key]")
    }
    assert set(rows) >= demo_ui.dataset_ids
    assert "on time" in rows["ocme-twn7"] and "5,472 / 0 / 0" in rows["ocme-twn7"]
    assert "passed" in rows["ocme-twn7"] and "not scheduled" in rows["opmt-wn01"]
    assert "public" in rows["ocme-twn7"] and "records" in rows["rybz-nyjw"]
    agencies = browser.find_elements(By.CSS_SELECTOR, "#agencies tr[data-agency]")
    assert {a.get_attribute("data-agency") for a in agencies} == {"ocme", "opm", "opm_program"}
    queue = browser.find_element(By.ID, "queue")  # the "needs OPM" queue, first on the page
    assert queue.location["y"] < browser.find_element(By.ID, "agencies").location["y"]
    browser.switch_to.default_content()
    screenshot(browser, folders, "open-data-overview.png")

    # The dataset page, still inside Airflow's frame.
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    browser.find_element(By.CSS_SELECTOR, "tr[data-key='ocme-twn7'] a.dataset").click()
    run_link = wait.until(ec.presence_of_element_located((By.ID, "run-link")))
    run_id = run_link.text
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "Accidental Drug Related Deaths by Town, Year and Sex" in page
    assert "2027-01-01 06:00 EST" in browser.find_element(By.ID, "next-due").text
    assert "cells suppressed" in browser.find_element(By.ID, "disclosure").text
    assert browser.find_elements(By.CSS_SELECTOR, "table.validation td.pass")
    assert run_id.startswith("manual__")
    browser.switch_to.default_content()
    screenshot(browser, folders, "open-data-dataset.png")

    # Its link to the Airflow run opens the run in the Airflow UI itself.
    browser.switch_to.frame(browser.find_element(By.TAG_NAME, "iframe"))
    browser.find_element(By.ID, "run-link").click()
    browser.switch_to.default_content()
    wait.until(ec.url_contains("/dags/publish_ocme/runs/"))
    wait.until(ec.presence_of_element_located((By.XPATH, f"//*[contains(text(), '{run_id}')]")))
    screenshot(browser, folders, "open-data-run.png")

"""A headless Debian chromium driven by Selenium through Debian's chromedriver (no browser or
driver download: scripts/install_chromium.sh installs both when missing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1440,1000",
)


def system_browser() -> tuple[str, str] | None:
    """Paths of chromium and chromedriver, or None when not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


# Every host name fails to resolve but loopback: the browser has no network beyond this machine.
NO_NETWORK = ("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",)


@contextmanager
def chromium(extra_flags: tuple[str, ...] = ()) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = system_browser()
    if found is None:
        raise RuntimeError("chromium/chromedriver missing: run scripts/install_chromium.sh")
    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in (*FLAGS, *extra_flags):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def shots(tmp_path: Path) -> list[Path]:
    """Where screenshots go: the test's folder, and the one CTDATA_SCREENSHOTS_DIR names
    (`CTDATA_SCREENSHOTS_DIR=docs` refreshes the README's)."""
    from ctdata import settings

    folders = [tmp_path]
    if os.environ.get("CTDATA_SCREENSHOTS_DIR"):
        folders.append(settings.PROJECT_ROOT / os.environ["CTDATA_SCREENSHOTS_DIR"])
    return folders


def screenshot(driver: Any, folders: list[Path], name: str) -> None:
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(folder / name))

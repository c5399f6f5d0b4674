"""Headless Chromium driven by Selenium, for the review page tests and benchmarks/review_bench.py.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (``scripts/setup_env.sh --tests``
installs them where it can). :func:`missing` says what is not there."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


def _binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def missing() -> str | None:
    """None when a browser test can run, else what is missing and how to install it."""
    gaps = [name for name, found in (("chromium", _binary()), ("chromedriver", shutil.which("chromedriver")),
                                     ("selenium", importlib.util.find_spec("selenium"))) if not found]
    if not gaps:
        return None
    return (f"browser tests need {', '.join(gaps)}: as root `apt-get install chromium chromium-driver` and "
            "`pip install -r requirements-test.txt` (bash scripts/setup_env.sh --tests does both)")


def start_chromium(profile: Path, download_dir: Path | None = None, size: tuple[int, int] = (1600, 1000)) -> Any:
    """A new headless Chromium under Selenium with a fresh profile in ``profile`` (an empty directory); downloads
    go to ``download_dir``. The caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _binary()
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                 f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    if download_dir is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(download_dir),
                                                  "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    if download_dir is not None:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
    return driver

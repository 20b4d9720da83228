"""Debian's Chromium, headless, driven through Selenium: the browser that the pad's test and
benchmark use. Nothing is downloaded: both binaries come from the Debian packages `chromium`
and `chromium-driver` (`make browser`), and Selenium (a dev dependency) is imported on use."""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# headless, as root, and without the background traffic this machine's closed network refuses
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1000,760", "--autoplay-policy=no-user-gesture-required",
)  # fmt: skip


def installed() -> bool:
    """Whether Chromium and ChromeDriver are both there."""
    return Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()


def headless_chromium():
    """A Selenium WebDriver on a fresh headless Chromium; the caller quits it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)

"""A real browser for page tests: Debian's chromium driven by Playwright, and a live server.

Playwright cannot download its own browser here, so it launches /usr/bin/chromium. Where that
or the playwright package is missing the browser tests skip, saying which.
"""
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# Without these Chromium keeps calling out to Google's services, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def sync_playwright():
    """The Playwright entry point, or a skip that says what is missing."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium at /usr/bin/chromium: `apt-get install chromium` (.ci/run does)")
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        pytest.skip("the playwright package is not installed (requirements-dev.txt has it)")
    return start


class LiveServer:
    """The app served by a real HTTP server in a thread, on a free port of 127.0.0.1; with
    `https`, over TLS with a throwaway self-signed certificate (the browser is told to accept it).
    """

    def __init__(self, app, port, https=False):
        self.server = make_server("127.0.0.1", port, app, threaded=True,
                                  ssl_context="adhoc" if https else None)
        self.url = f"{'https' if https else 'http'}://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


def screenshot(page, name):
    """Keep a picture of each page a test visits (test-artifacts/, uploaded by CI if wanted)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

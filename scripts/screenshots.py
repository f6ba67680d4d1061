"""Screenshots of built deal rooms at desktop (1280 px) and phone (390 px) widths.

    python scripts/screenshots.py site/ kestrel-freight [out_dir]

Serves the built site on a free localhost port and opens every page of the
deal in Debian's headless Chromium (Playwright drives it; no browser download).
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PAGES = ["", "plan/", "people/", "value/", "proposal/"]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


def main(site: str, slug: str, out: str = "screenshots") -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/{slug}/"
    Path(out).mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for label, (width, height) in WIDTHS.items():
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
            for path in PAGES:
                page.goto(base + path)
                name = (path.strip("/") or "overview")
                page.screenshot(path=f"{out}/{slug}-{name}-{label}.png", full_page=True)
            page.close()
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main(*sys.argv[1:])

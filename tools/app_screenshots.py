"""Screenshots of every page of the app at 1280×720 (a laptop screen), for ``docs/screenshots/``.

Serves nothing itself: give the URL of a running app (``streamlit run
streamlit_app.py``). Drives Debian's Chromium with the internet blocked, so the
maps show the grey background of an offline office (basemap tiles are the only
thing the app asks of the internet). The analysis pages are shown with a result:
服务圈分析 and 生活圈体检 run with their defaults, 选址 with its default count (10 sites).

Usage::

    python tools/app_screenshots.py http://127.0.0.1:8501 docs/screenshots
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

PAGES = (("map", ""), ("coverage", "coverage"), ("lifecircle", "lifecircle"), ("siting", "siting"),
         ("report", "report"), ("targets", "targets"), ("export", "export"), ("upload", "upload"))
RUN = {"coverage": "运行分析", "lifecircle": "运行评估", "siting": "运行选址"}


def _idle(page) -> None:
    time.sleep(0.8)
    deadline = time.monotonic() + 300
    while page.locator('[data-testid="stStatusWidget"]').is_visible() and time.monotonic() < deadline:
        time.sleep(0.2)


def main(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    host = url.split("//", 1)[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN")
        ctx.route("**/*", lambda r: r.continue_() if r.request.url.split("//", 1)[-1].startswith(host)
                  or r.request.url.startswith(("data:", "blob:")) else r.abort())
        page = ctx.new_page()
        page.set_default_timeout(300_000)
        page.on("dialog", lambda d: d.accept())
        for name, path in PAGES:
            page.goto(f"{url}/{path}")
            page.locator('[data-testid="stMain"] h1, [data-testid="stMain"] h2').first.wait_for()
            _idle(page)
            if name == "map":
                frame = page.frame_locator('iframe[title="streamlit_folium.st_folium"]').first
                frame.locator(".leaflet-overlay-pane path").first.wait_for(state="attached")
                frame.locator(".marker-cluster").first.wait_for()
                _idle(page)
            if name == "siting":
                page.get_by_text("指定数量").click()
                _idle(page)
                count = page.get_by_role("spinbutton", name="新增设施数量")
                if count.count():
                    count.fill("10")
                    count.press("Enter")
                    _idle(page)
            if name in RUN:
                page.get_by_role("button", name=RUN[name]).click()
                _idle(page)
            time.sleep(2.5)  # maps finish drawing
            page.evaluate("""() => { window.scrollTo(0, 0);
                const boxes = '[data-testid="stMain"], [data-testid="stAppViewContainer"]';
                for (const el of document.querySelectorAll(boxes)) el.scrollTo(0, 0); }""")
            time.sleep(0.5)
            page.screenshot(path=str(out / f"{name}.png"))
            print(out / f"{name}.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))

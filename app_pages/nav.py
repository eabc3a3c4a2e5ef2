"""The app's pages in menu order, so pages can link to each other.

Pages are files (``app_pages/page_*.py``): each is an importable module with a
``render()`` and, run as a script by ``st.navigation``, calls it. File pages let
``st.switch_page`` and Streamlit's ``AppTest.switch_page`` address them.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

_HERE = Path(__file__).resolve().parent

#: url path -> (title, file under app_pages). No icons: Streamlit shows the
#: current page's icon as the favicon and fetches Material/emoji icons from
#: fonts.gstatic.com, which an offline office network does not reach.
PAGE_SPECS: dict[str, tuple[str, str]] = {
    "map": ("地图", "page_map.py"),
    "coverage": ("服务圈分析", "page_coverage.py"),
    "lifecircle": ("生活圈体检", "page_lifecircle.py"),
    "siting": ("选址", "page_siting.py"),
    "report": ("报告", "page_report.py"),
    "targets": ("目标", "page_targets.py"),
    "export": ("导出", "page_export.py"),
    "upload": ("上传图层", "page_upload.py"),
}


def pages() -> dict[str, st.Page]:
    """``url path -> st.Page``; the map page is the default."""
    return {
        url: st.Page(_HERE / file, title=title, url_path=url, default=url == "map")
        for url, (title, file) in PAGE_SPECS.items()
    }


def go_to(url: str) -> None:
    """Switch to another page (e.g. the map after "show on map").

    When the page runs outside the navigation (a single-page test), a note is
    shown instead: the state is already set for when the user opens the page.
    """
    try:
        st.switch_page(pages()[url])
    except StreamlitAPIException:
        st.success(f"已设置，打开“{PAGE_SPECS[url][0]}”页查看。")

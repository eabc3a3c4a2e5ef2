"""planatlas app: ``streamlit run streamlit_app.py``.

Thin on purpose: page setup and navigation. Each page lives in ``app_pages/``
(one module per page with a ``render()``), logic in ``spatial/``.

The file has two roles. ``streamlit run`` first imports it to find ``app``,
an ``st.App`` whose lifespan prepares the default data as the server starts
(:mod:`app_pages.startup`); every visit then runs it as the page script
(Streamlit names that run ``__main__``), which draws the page.
"""

from __future__ import annotations

import streamlit as st


def main() -> None:
    """Draw the page of one script run: setup, navigation, the current page."""
    from app_pages import common, nav, state
    from spatial.webmap import install_assets

    # no page_icon: an icon name or emoji makes the browser fetch the favicon from
    # fonts.gstatic.com; the default favicon is served by the app itself
    st.set_page_config(page_title="planatlas · 济南规划图集", layout="wide")

    # Leaflet & co. served from ./static/vendor (idempotent: a few stat calls)
    install_assets()
    state.init_state()
    common.app_css()

    page = st.navigation(list(nav.pages().values()))
    state.note_page(page.title)
    common.project_selector()
    common.project_banner()  # a demo project says so at the top of every page
    for note in common.store_notes():  # a damaged store was rebuilt: said on every page for a while
        st.warning(note)
    page.run()
    common.page_scripts(guard=any(state.get(k) is not None for k in (state.COVERAGE_RESULT, state.LIFECIRCLE_RESULT,
                                                              state.SITING_RESULT)))


if __name__ == "__main__":  # a script run (a visit, a rerun, an AppTest)
    main()
else:  # imported by `streamlit run`: the server, which prepares the data as it starts
    from starlette.middleware import Middleware

    from app_pages._preload import PreloadMiddleware
    from app_pages.startup import lifespan

    # the page names the widget code it will need, so the browser fetches it with the page
    app = st.App("streamlit_app.py", lifespan=lifespan, middleware=[Middleware(PreloadMiddleware)])

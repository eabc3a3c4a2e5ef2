"""What the server prepares when it starts, so that the first planner does not wait for it.

A fresh server used to spend the first visit importing the GIS stack
(geopandas, folium, streamlit-folium: 1.2 s here), opening the store (or
building it from the report on an empty data folder: 4-5 s) and reading the
default layers, all while that planner looked at a spinner. ``streamlit run
streamlit_app.py`` now serves the app as an ``st.App`` whose lifespan runs
:func:`prepare` before the server answers: the same cached functions a page
calls (:mod:`app_pages.common`) are filled for the default project, the
default map's overlays are drawn once, and the population surface the
coverage page starts with is built. The URL is printed when that is done,
so the first planner finds it ready (the work moved into the server's start:
``benchmarks/bench_app.py`` shows both). Before that, the lifespan turns
Nagle's algorithm off on the server's listening socket (:mod:`app_pages._nodelay`).

Nothing here is needed for correctness: when preparing fails, one Chinese
line goes to the terminal and the page shows the error the planner can act
on, as it did before.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any


def _say(text: str) -> None:
    print(f"planatlas：{text}", file=sys.stderr, flush=True)


def _register_map_component() -> None:
    """Serve streamlit-folium's frontend although it was first imported here, outside a script run.

    ``declare_component`` registers a component only when called in a script
    run; a module imported once is not imported again, so without this the
    map frame's files would answer 404 for the life of the server.
    """
    import streamlit_folium
    from streamlit import runtime

    if runtime.exists():  # not when called from a test or a notebook: there is nothing to serve
        runtime.get_instance().component_registry.register_component(streamlit_folium._component_func)


def _no_nagle() -> None:
    """Nagle's algorithm off on every connection of the server (:mod:`app_pages._nodelay`)."""
    from streamlit import config

    from app_pages._nodelay import no_nagle

    try:
        no_nagle(int(config.get_option("server.port")))
    except (OSError, TypeError, ValueError) as exc:  # an optimisation: the app works without it
        _say(f"未能为连接关闭 Nagle 算法，页面加载会慢一些 ({type(exc).__name__}: {exc})")


def prepare() -> float:
    """Open (or build) the default project's store and fill the caches of the map page; seconds taken.

    Raises nothing a caller must handle: a failure is said in one line and
    left to the page (which shows it in Chinese with what to do).
    """
    t0 = time.perf_counter()
    # Streamlit warns in English that this thread has no script run ("can be ignored"): it has none by design
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    try:
        from app_pages import common, map_overlays
        from spatial import settings

        target = settings.default_store_path()
        path, _notes = common._ensured_store(str(target), common._file_state(target))
        mtime = common._mtime(Path(path))
        table = common._list_layers_cached(path, mtime)
        specs = common._specs_cached(path, mtime)
        common._project_info_cached(path, mtime)
        names = [str(n) for n in table["name"]]
        shown = [n for n in names if n in specs and specs[n].visible]
        for name in shown:
            common._read_layer_cached(name, path, mtime)
        map_overlays.prepare_default(path, mtime, shown)
        # the coverage page's default population (its first units layer): its first run does not build it
        units = common.names_with_role(names, specs, "districts", "units")  # as the page's 统计单元 list
        if units:
            surface = common.store_population_cached(path, mtime, units[0])
            if surface is not None:
                from spatial.coverage import warm_up

                warm_up(common._read_layer_cached(units[0], path, mtime), surface)
    except Exception as exc:  # preparing is an optimisation: the page reports the real error itself
        _say(f"启动时未能预先准备数据，将在打开页面时再试 ({type(exc).__name__}: {exc})")
        return time.perf_counter() - t0
    finally:
        if "streamlit_folium" in sys.modules:  # imported here: the map frame must still be served
            _register_map_component()
    elapsed = time.perf_counter() - t0
    _say(f"数据已就绪 ({elapsed:.1f} 秒)")
    return elapsed


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """``st.App`` lifespan: :func:`prepare` on a worker thread; the server answers once it is done."""
    _say("正在打开数据库并准备默认地图…")
    _no_nagle()
    await asyncio.to_thread(prepare)
    yield

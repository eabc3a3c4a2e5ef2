"""Leaflet, Leaflet.markercluster and jQuery from the installed packages, never from a CDN.

Folium points Leaflet, jQuery and MarkerCluster at jsdelivr / cdnjs and adds
Bootstrap and Font Awesome. A planner's map must draw with no internet and
must not tell a third party who opened it, so every element's assets are
re-pointed to copies the app serves (``./static/vendor`` at
``/app/static/vendor``, filled from the ``xstatic-*`` packages by
:func:`install_assets`), and what planatlas does not use (Bootstrap, Font
Awesome, awesome-markers) is dropped. An element asking for a script that has
no local copy is refused rather than loaded from a CDN.
"""

from __future__ import annotations

import importlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import folium
from branca.element import Element
from folium.elements import JSCSSMixin

from .._errors import ParameterError

__all__ = [
    "ASSETS",
    "STATIC_URL",
    "asset_source",
    "install_assets",
    "localise_assets",
    "localise_element",
    "walk",
]

#: URL under which the app serves ``./static/vendor`` (Streamlit serves
#: ``./static`` at ``/app/static`` when ``server.enableStaticServing`` is on).
STATIC_URL: str = "/app/static/vendor"


@dataclass(frozen=True)
class Asset:
    """One vendored file.

    Attributes
    ----------
    package : str
        The ``xstatic`` module holding it.
    file : str
        Path inside the package's data folder.
    target : str
        Path under ``static/vendor``.
    """

    package: str
    file: str
    target: str


_LEAFLET_IMAGES = ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png", "marker-shadow.png")

#: Every file a planatlas map loads.
ASSETS: tuple[Asset, ...] = (
    Asset("xstatic.pkg.leaflet", "leaflet.js", "leaflet/leaflet.js"),
    Asset("xstatic.pkg.leaflet", "leaflet.css", "leaflet/leaflet.css"),
    *(Asset("xstatic.pkg.leaflet", f"images/{name}", f"leaflet/images/{name}") for name in _LEAFLET_IMAGES),
    Asset("xstatic.pkg.leaflet_markercluster", "leaflet.markercluster.js", "markercluster/leaflet.markercluster.js"),
    Asset("xstatic.pkg.leaflet_markercluster", "MarkerCluster.css", "markercluster/MarkerCluster.css"),
    Asset("xstatic.pkg.leaflet_markercluster", "MarkerCluster.Default.css",
          "markercluster/MarkerCluster.Default.css"),
    Asset("xstatic.pkg.jquery", "jquery.min.js", "jquery/jquery.min.js"),
)

# Folium's resource names -> our vendor path.
_JS_BY_NAME: dict[str, str] = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "markerclusterjs": "markercluster/leaflet.markercluster.js",
}
_CSS_BY_NAME: dict[str, str] = {
    "leaflet_css": "leaflet/leaflet.css",
    "markerclustercss": "markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "markercluster/MarkerCluster.Default.css",
}
# planatlas draws circle markers and plain HTML popups, which need none of these
_DROPPED: frozenset[str] = frozenset({
    "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
    "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css",
})


def asset_source(asset: Asset) -> Path:
    """Path of a vendored file inside its installed ``xstatic`` package.

    Raises
    ------
    FileNotFoundError
        When the package is not installed (a declared dependency of planatlas).
    """
    try:
        module = importlib.import_module(asset.package)
    except ImportError as exc:  # pragma: no cover - a declared dependency
        msg = (f"未安装 {asset.package}，请运行 pip install xstatic-leaflet xstatic-leaflet-markercluster "
               f"xstatic-jquery ({asset.package} is not installed)")
        raise FileNotFoundError(msg) from exc
    return Path(str(module.BASE_DIR)) / asset.file


def install_assets(static_dir: str | os.PathLike[str] | None = None) -> Path:
    """Copy Leaflet, Leaflet.markercluster and jQuery into ``static_dir/vendor``.

    Idempotent: a file is copied only when missing or of another size, so
    calling this at every app start costs a few ``stat`` calls. Each copy is
    written under a name of its own and renamed into place, so a concurrent
    reader never sees half a file and two app processes never share one.

    Parameters
    ----------
    static_dir : path-like, optional
        The app's static folder (default: ``static/`` in the project root,
        next to ``streamlit_app.py``).

    Returns
    -------
    pathlib.Path
        The ``vendor`` folder.
    """
    if static_dir is None:
        from ..settings import PROJECT_ROOT

        static_dir = Path(PROJECT_ROOT) / "static"
    vendor = Path(static_dir) / "vendor"
    for asset in ASSETS:
        src = asset_source(asset)
        dst = vendor / asset.target
        if dst.exists() and dst.stat().st_size == src.stat().st_size:
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return vendor


def walk(element: Element) -> Iterator[Element]:
    """``element`` and all its descendants, depth first."""
    yield element
    for child in element._children.values():
        yield from walk(child)


def _no_local_copy(kind_zh: str, kind: str, name: str, url: str) -> ParameterError:
    msg = f"没有{kind_zh} {name} 的本地副本，地图无法离线显示 (no local copy of the {kind} {name!r}: {url})"
    return ParameterError(msg)


def _localised(links: list[tuple[str, str]], known: Mapping[str, str], *, base: str,
               kind_zh: str, kind: str) -> list[tuple[str, str]]:
    """``links`` re-pointed under ``base``; dropped when planatlas does not use them."""
    out = []
    for name, url in links:
        if name in known:
            out.append((name, f"{base}/{known[name]}"))
        elif name not in _DROPPED and not url.startswith(base):
            raise _no_local_copy(kind_zh, kind, name, url)
    return out


def localise_element(element: JSCSSMixin, *, base_url: str = STATIC_URL) -> None:
    """Point one element's own JS/CSS links (not its children's) at the vendored copies.

    Raises
    ------
    ParameterError
        The element needs a file planatlas has no local copy of.
    """
    base = base_url.rstrip("/")
    js = _localised(element.default_js, _JS_BY_NAME, base=base, kind_zh="脚本", kind="script")
    css = _localised(element.default_css, _CSS_BY_NAME, base=base, kind_zh="样式表", kind="stylesheet")
    # instance attributes shadow Folium's class-level lists
    element.default_js = js
    element.default_css = css


def localise_assets(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every JS/CSS link of a map and its children at the vendored copies.

    Parameters
    ----------
    m : folium.Map
        Changed in place.
    base_url : str, keyword-only
        URL of the vendor folder (default :data:`STATIC_URL`).

    Returns
    -------
    folium.Map
        ``m``, for chaining.

    Raises
    ------
    ParameterError
        An element asks for a file planatlas has no local copy of (a Folium
        plugin not vendored here): better refused than a map that silently
        breaks offline or calls a CDN.
    """
    for element in walk(m):
        if isinstance(element, JSCSSMixin):
            localise_element(element, base_url=base_url)
    return m

"""A map as one self-contained HTML file: Leaflet and its plugins inlined, no CDN.

A planner mails the map or opens it on a machine with no internet, so the
exported page carries every script and stylesheet inside it, and the images
``leaflet.css`` refers to as ``data:`` URIs. Only the basemap tiles still
need a tile server; offline, the overlays draw on a grey background.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium

from .assets import ASSETS, STATIC_URL, Asset, asset_source, localise_assets

__all__ = ["standalone_html"]

_SOURCE_MAP_JS = re.compile(r"^//# sourceMappingURL=.*$", re.MULTILINE)
_SOURCE_MAP_CSS = re.compile(r"/\*# sourceMappingURL=.*?\*/")
_SCRIPT_END = re.compile(r"</(script)", re.IGNORECASE)
_SCRIPT_TAG = re.compile(r'<script src="([^"]+)"></script>')
_LINK_TAG = re.compile(r'<link rel="stylesheet" href="([^"]+)"/>')
_CSS_URL = re.compile(r"url\(([^)]+)\)")


def _inline_js(path: Path) -> str:
    """A script's code, safe inside one ``<script>`` element."""
    code = _SOURCE_MAP_JS.sub("", path.read_text(encoding="utf-8")).strip()  # source maps are not shipped
    # a literal "</script" inside the code would end the element early
    code = _SCRIPT_END.sub(r"<\\/\1", code)
    return f"<script>{code}</script>"


def _inline_css(path: Path) -> str:
    """A stylesheet with the images it refers to as ``data:`` URIs."""
    text = _SOURCE_MAP_CSS.sub("", path.read_text(encoding="utf-8"))

    def _data_uri(match: re.Match[str]) -> str:
        ref = match.group(1).strip("'\"")
        target = path.parent / ref
        if ref.startswith("data:") or not target.is_file():
            return match.group(0)
        payload = base64.b64encode(target.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{payload})"

    return f"<style>{_CSS_URL.sub(_data_uri, text)}</style>"


def standalone_html(m: folium.Map) -> str:
    """Self-contained HTML of a map: Leaflet & co. inlined, no CDN link.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`spatial.webmap.make_map` (any Folium map whose
        resources are vendored); its asset links are re-pointed in place.

    Returns
    -------
    str
        A complete HTML document that opens from disk with no internet.

    Raises
    ------
    ParameterError
        The map holds an element whose scripts planatlas has no local copy of.
    """
    localise_assets(m, base_url=STATIC_URL)
    page = m.get_root().render()
    sources: dict[str, Asset] = {f"{STATIC_URL}/{a.target}": a for a in ASSETS}

    def _script(match: re.Match[str]) -> str:
        asset = sources.get(match.group(1))
        return match.group(0) if asset is None else _inline_js(asset_source(asset))

    def _link(match: re.Match[str]) -> str:
        asset = sources.get(match.group(1))
        return match.group(0) if asset is None else _inline_css(asset_source(asset))

    return _LINK_TAG.sub(_link, _SCRIPT_TAG.sub(_script, page))

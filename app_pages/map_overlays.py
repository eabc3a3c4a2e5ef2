"""The main map's overlays, drawn once per layer and look, and sent as ready script.

Every rerun of the map page used to draw all shown layers again
(:func:`spatial.webmap.make_live_map`: 0.11-0.14 s for the default layers)
and streamlit-folium rendered them to script again (0.17 s of Jinja for 19
feature groups and 840 KB), for a colour change, a fly-to or a widget that
has nothing to do with the map. Here each layer is drawn and rendered once
for what its look depends on (store file and its modification time, basemap,
colour figure, clustering, shown at start), cached, and handed to
``st_folium`` as :class:`ScriptGroup` elements whose script is that text: a
colour change redraws the districts only, a fly-to draws only its mark.

The script is rendered as streamlit-folium renders a feature group
(:func:`streamlit_folium.generate_leaflet_string` on a group attached to a
map whose name becomes ``map_div``), under a variable name of its own
(``feature_group_pa…``, unique per layer and look), and the group name
streamlit-folium gives each group by position is bound to it. So the layer
control, the layer memory and the clicks work as for plain groups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import folium
import geopandas as gpd
import streamlit as st
from branca.element import Template

from app_pages import common, state
from spatial import webmap
from spatial._errors import PlanatlasError
from spatial.layerspec import LayerSpec, default_spec


@dataclass(frozen=True)
class GroupScript:
    """One feature group as script.

    Attributes
    ----------
    layer_name : str
        Its title in the layer control.
    show : bool
        Shown when the map opens.
    var : str
        The JavaScript variable ``script`` defines for the group.
    script : str
        The group and everything in it, as streamlit-folium would send it.
    """

    layer_name: str
    show: bool
    var: str
    script: str


@dataclass(frozen=True)
class LayerScripts:
    """What one layer adds to the live map: its groups as script, its legends, its display note."""

    groups: tuple[GroupScript, ...]
    legends: tuple[str, ...]
    notes: tuple[str, ...]


class ScriptGroup(folium.FeatureGroup):
    """A feature group whose script was rendered before (:class:`GroupScript`); it has no children."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.prerendered }}
        var {{ this.get_name() }} = {{ this.prerendered_var }};
        {% endmacro %}
        """
    )

    def __init__(self, group: GroupScript) -> None:
        super().__init__(name=group.layer_name, show=group.show)
        self.prerendered = group.script
        self.prerendered_var = group.var

    def render(self, **kwargs: object) -> None:
        """Nothing to prepare: the script exists already.

        ``st_folium`` calls this before it takes the group's script; folium's
        own ``render`` would wrap that script in a new Jinja template (100 ms
        of lexing for the default layers' 840 KB, on every rerun).
        """


def to_script(group: folium.FeatureGroup, *, key: str, basemap: str) -> GroupScript:
    """Render a detached feature group as ``st_folium`` would, under the variable ``feature_group_<key>``.

    ``key`` is a JavaScript identifier part, unique among the groups sent together.
    """
    from streamlit_folium import generate_leaflet_string, get_full_id

    scratch = folium.Map(tiles=None)
    group.add_to(scratch)
    group.render()
    text = generate_leaflet_string(group, base_id=key).replace(get_full_id(scratch), "map_div")
    group._parent = None
    return GroupScript(layer_name=str(group.layer_name), show=bool(group.show), var=group.get_name(), script=text)


def _key(*parts: object) -> str:
    return "pa" + hashlib.sha1(repr(parts).encode("utf-8")).hexdigest()[:16]


def layer_scripts(name: str, frame: gpd.GeoDataFrame, *, spec: LayerSpec, basemap: str, color_by: str | None,
                  cluster: bool, token: object) -> LayerScripts:
    """One layer drawn for the live map and rendered to script (``token`` tells its data apart)."""
    live = webmap.make_live_map({name: frame}, specs={name: spec}, basemap=basemap, color_by=color_by,
                                cluster_items=cluster, hidden=())
    groups = tuple(to_script(g, key=_key(name, token, basemap, color_by, cluster, i), basemap=basemap)
                   for i, g in enumerate(live.groups))
    return LayerScripts(groups, tuple(live.legends), tuple(live.notes))


@st.cache_data(show_spinner=False, max_entries=256)
def _stored_layer_scripts(name: str, path: str, mtime: float, basemap: str, color_by: str | None,
                          cluster: bool) -> LayerScripts:
    # path and mtime are the cache key of the data: a rebuilt store or a new upload is drawn again
    frame = common._read_layer_cached(name, path, mtime)
    spec = common._specs_cached(path, mtime).get(name) or default_spec(name)
    return layer_scripts(name, frame, spec=spec, basemap=basemap, color_by=color_by, cluster=cluster,
                         token=(path, mtime))


def _figure_for(name: str, spec: LayerSpec, color_by: str | None) -> str | None:
    return color_by if color_by and spec.role == "districts" and color_by in spec.style.figures else None


def stored_overlays(names: Sequence[str], *, path: str, mtime: float, specs: Mapping[str, LayerSpec],
                    basemap: str, color_by: str | None, cluster: bool) -> LayerScripts:
    """The overlays of the store's layers ``names`` as one :class:`LayerScripts`, each layer from the cache."""
    groups: list[GroupScript] = []
    legends: list[str] = []
    notes: list[str] = []
    for name in webmap.draw_order(names, specs):
        spec = specs.get(name) or default_spec(name)
        try:
            part = _stored_layer_scripts(name, path, mtime, basemap, _figure_for(name, spec, color_by),
                                         bool(cluster and spec.style.cluster))
        except PlanatlasError as exc:  # a damaged or foreign layer: said, and the others drawn
            st.error(f"无法绘制图层 {common.layer_label(name)}：{exc}")
            continue
        groups.extend(part.groups)
        legends.extend(part.legends)
        notes.extend(part.notes)
    return LayerScripts(tuple(groups), tuple(legends), tuple(notes))


def live_map(names: Sequence[str], *, basemap: str, color_by: str | None, cluster: bool, height: int,
             focus: folium.FeatureGroup | None = None) -> webmap.LiveMap:
    """The live map of the store's layers ``names``: base map, cached overlays as :class:`ScriptGroup`, ``focus`` last.

    Same parts as :func:`spatial.webmap.make_live_map` of those layers; an
    unreadable layer is said on the page and left out.
    """
    frame = webmap.make_live_map({}, basemap=basemap, height=height, focus=focus)
    path = common.store_path()
    if path is None or not names:
        return frame
    overlays = stored_overlays(names, path=str(path), mtime=common._mtime(path), specs=common.specs(),
                               basemap=basemap, color_by=color_by, cluster=cluster)
    groups: list[folium.FeatureGroup] = [ScriptGroup(g) for g in overlays.groups]
    return webmap.LiveMap(frame.base, [*groups, *frame.groups], frame.control,
                          [*overlays.legends, *frame.legends], list(overlays.notes))


def prepare_default(path: str, mtime: float, names: Sequence[str]) -> None:
    """Fill the cache for the map a planner first sees (the page's default basemap, colour figure, clustering)."""
    stored_overlays(names, path=path, mtime=mtime, specs=common._specs_cached(path, mtime),
                    basemap=state.DEFAULTS[state.MAP_BASEMAP], color_by=state.DEFAULTS[state.MAP_COLOR_BY],
                    cluster=bool(state.DEFAULTS[state.MAP_CLUSTER]))

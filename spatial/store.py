"""The GeoPackage store: every planning layer in one file, written atomically.

A planner's store must never be left half-written: :func:`write_store` writes
all layers into a temporary file beside the target, checks that every layer
reads back, and only then moves it over the old store with :func:`os.replace`
(atomic on POSIX and Windows). If anything fails on the way the previous store
stays exactly as it was.

Besides the spatial layers the store holds an attribute table
``planatlas_layers`` with each layer's titles, description, source, licence,
datum of the source and precision, so the file explains itself in QGIS too.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FeatureError, FieldError, GeometryError

from . import settings
from ._atomic import atomic_path
from ._errors import CRSError, PlanatlasError, StoreError, UnknownLayerError

#: Name of the attribute table that describes the layers.
META_TABLE = "planatlas_layers"


def _layer_specs() -> dict:
    from layers import LAYERS

    return LAYERS


def gpkg_geometry_type(gdf: gpd.GeoDataFrame) -> str:
    """GeoPackage geometry type for a frame: its single type, promoted to Multi if mixed."""
    types = set(gdf.geometry.dropna().geom_type.unique())
    if not types:
        return "Unknown"
    if len(types) == 1:
        return types.pop()
    bases = {t.replace("Multi", "") for t in types}
    if len(bases) == 1:
        return "Multi" + bases.pop()
    return "Unknown"  # generic GEOMETRY column (points and lines together)


def writable_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy ready for any file format: EPSG:4326, JSON text for list/dict/tuple cells.

    Shared by the store and every export, so a layer reads the same whichever
    file it went to.
    """
    if gdf.crs is None:
        raise CRSError("cannot write a layer without CRS: set it first (e.g. gdf.set_crs('EPSG:4326'))")
    out = gdf.to_crs(settings.STORAGE_CRS) if not gdf.crs.equals("EPSG:4326") else gdf.copy()
    for col in out.columns:
        if col != out.geometry.name and out[col].dtype == object:
            out[col] = out[col].map(
                lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict, tuple)) else v
            )
    return out


def _write_layers(layers: Mapping[str, gpd.GeoDataFrame], tmp: Path) -> None:
    """Write every layer and the metadata table into a new GeoPackage at ``tmp``."""
    specs = _layer_specs()
    meta_rows = []
    for name, gdf in layers.items():
        # GeoPackage reserves gpkg*/sqlite* table names, and the metadata
        # table written last would silently replace a layer of its name
        if (not isinstance(name, str) or not name.strip() or name == META_TABLE
                or name.lower().startswith(("gpkg", "sqlite"))):
            raise StoreError(f"cannot store a layer named {name!r}: the name is empty or reserved")
        frame = writable_frame(gdf)
        spec = specs.get(name)
        options = {}
        if spec is not None:
            options = {"IDENTIFIER": spec.title_zh + " " + spec.title_en, "DESCRIPTION": spec.description}
        pyogrio.write_dataframe(
            frame, tmp, layer=name, driver="GPKG",
            geometry_type=gpkg_geometry_type(frame), layer_options=options,
        )
        row = spec.as_dict() if spec is not None else {"name": name}
        row["n_features"] = len(frame)
        row["geometry_type"] = gpkg_geometry_type(frame)
        meta_rows.append(row)
    pyogrio.write_dataframe(pd.DataFrame(meta_rows), tmp, layer=META_TABLE, driver="GPKG")
    # read back before replacing: a store that does not open is never installed
    written = {row[0] for row in pyogrio.list_layers(tmp)}
    missing = set(layers) - written
    if missing:
        raise StoreError(f"layers missing after writing: {sorted(missing)}")


def write_store(layers: Mapping[str, gpd.GeoDataFrame], path: str | os.PathLike | None = None) -> Path:
    """Write layers into one GeoPackage, atomically replacing any previous store.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name -> frame (any CRS; stored in EPSG:4326).
    path : path-like, optional
        Target file; default :func:`spatial.settings.default_store_path`.

    Returns
    -------
    pathlib.Path
        The written store.
    """
    target = Path(path) if path is not None else settings.default_store_path()
    target = target.expanduser().resolve()
    if target.exists() and target.is_dir():
        raise StoreError(f"cannot write the store: {target} is a folder")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot write the store in {target.parent}: {exc.strerror or exc}") from None
    try:
        with atomic_path(target, suffix=".tmp.gpkg") as tmp:
            _write_layers(layers, tmp)
    except PlanatlasError:  # StoreError, CRSError from writable_frame: already clear
        raise
    except OSError as exc:
        raise StoreError(f"cannot write the store {target}: {exc.strerror or exc}") from None
    except (DataSourceError, DataLayerError, FieldError, FeatureError, GeometryError,
            NotImplementedError, TypeError, ValueError, AttributeError) as exc:
        # what GDAL/pyogrio refuse in a frame (columns differing only in case,
        # complex numbers, non-text column names): the old store stays as it was
        raise StoreError(f"cannot write the store {target}: {type(exc).__name__}: {exc}") from None
    return target


def _resolve(path) -> Path:
    return Path(path).expanduser() if path is not None else settings.default_store_path()


def list_layers(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Table of the layers in a store: name, titles, source, datum, precision, n_features, geometry_type."""
    store = _resolve(path)
    if not store.exists():
        raise StoreError(f"no store at {store}: run `planatlas build` first")
    try:
        meta = pyogrio.read_dataframe(store, layer=META_TABLE, read_geometry=False)
    except (DataSourceError, DataLayerError) as exc:
        raise StoreError(f"{store} is not a planatlas store: {exc}") from None
    return pd.DataFrame(meta)


def read_layer(name: str, *, path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Read one layer from the store, in EPSG:4326."""
    store = _resolve(path)
    if not store.exists():
        raise StoreError(f"no store at {store}: run `planatlas build` first")
    names = [row[0] for row in pyogrio.list_layers(store)]
    if name not in names or name == META_TABLE:
        known = ", ".join(n for n in names if n != META_TABLE)
        raise UnknownLayerError(f"unknown layer {name!r}; the store has: {known}")
    return pyogrio.read_dataframe(store, layer=name)


def read_all(path: str | os.PathLike | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Every layer of a store, by name, in the order it was written."""
    meta = list_layers(path)
    return {name: read_layer(name, path=path) for name in meta["name"]}


def ensure_store(path: str | os.PathLike | None = None) -> Path:
    """Return the store, building it from the embedded report first if it is missing.

    Building runs entirely offline on the data shipped with planatlas.
    """
    store = _resolve(path)
    if store.exists():
        return store
    from layers.build import build_layers

    return write_store(build_layers(), store)

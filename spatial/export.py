"""Export layers and analysis results to the formats planners' GIS tools open.

========  ==================================================================
format    what is written
========  ==================================================================
geojson   RFC 7946: WGS-84 longitude/latitude, counter-clockwise exteriors
gpkg      GeoPackage (one layer)
shp       zipped Shapefile (.shp .shx .dbf .prj .cpg; UTF-8 attributes; one
          file per geometry family when points, lines and polygons mix;
          field names cut to 10 characters, made unique)
kml       KML 2.2 for Google Earth / 奥维 (Ovi) maps, ``name`` as label
csv       UTF-8 with BOM (opens in Excel), ``lon``/``lat`` of a
          representative point and the geometry as ``wkt``
========  ==================================================================

Every file is written to a temporary name in the target folder and moved into
place when complete, so an interrupted export never leaves a truncated file.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from ._atomic import atomic_path
from ._errors import InputFileError, StoreError
from .store import gpkg_geometry_type, writable_frame

#: format -> (file suffix, MIME type)
FORMATS: dict[str, tuple[str, str]] = {
    "geojson": (".geojson", "application/geo+json"),
    "gpkg": (".gpkg", "application/geopackage+sqlite3"),
    "shp": (".zip", "application/zip"),
    "kml": (".kml", "application/vnd.google-earth.kml+xml"),
    "csv": (".csv", "text/csv"),
}

_SUFFIX_TO_FORMAT = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".zip": "shp",
                     ".shp": "shp", ".kml": "kml", ".csv": "csv"}


def format_for(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The export format: ``fmt`` if given, else guessed from the file suffix."""
    if fmt is not None:
        key = fmt.lower().lstrip(".")
        key = {"json": "geojson", "shapefile": "shp", "geopackage": "gpkg"}.get(key, key)
        if key not in FORMATS:
            raise InputFileError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return key
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_TO_FORMAT:
        raise InputFileError(
            f"cannot tell the format of {Path(path).name!r}; pass a format ({', '.join(FORMATS)})"
        )
    return _SUFFIX_TO_FORMAT[suffix]


def _rfc7946_orient(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Counter-clockwise exterior rings, clockwise holes (RFC 7946 section 3.1.6)."""
    out = gdf.copy()
    geoms = out.geometry.values
    poly = shapely.get_type_id(geoms) == 3
    multi = shapely.get_type_id(geoms) == 6
    out.loc[poly | multi, out.geometry.name] = shapely.orient_polygons(geoms[poly | multi], exterior_cw=False)
    return out


def _short_names(columns: list[str]) -> dict[str, str]:
    """Shapefile field names: at most 10 bytes, unique."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        base = col
        while len(base.encode("utf-8")) > 10:
            base = base[:-1]
        name, k = base, 1
        while name.lower() in used:
            tail = str(k)
            name = base
            while len((name + tail).encode("utf-8")) > 10:
                name = name[:-1]
            name += tail
            k += 1
        used.add(name.lower())
        mapping[col] = name
    return mapping


def _family(geom_type: str | None) -> str:
    if geom_type is None:
        return "none"
    return {"Point": "points", "MultiPoint": "points", "LineString": "lines",
            "MultiLineString": "lines", "Polygon": "polygons", "MultiPolygon": "polygons"}.get(geom_type, "other")


def _write_shapefile_zip(gdf: gpd.GeoDataFrame, dest: Path, layer: str) -> None:
    attrs = [c for c in gdf.columns if c != gdf.geometry.name]
    mapping = _short_names(attrs)
    frame = gdf.rename(columns=mapping)
    families = frame.geometry.geom_type.map(_family)
    with tempfile.TemporaryDirectory() as tmp:
        written: list[Path] = []
        groups = [(fam, frame[families == fam]) for fam in ("points", "lines", "polygons", "other")]
        groups = [(fam, part) for fam, part in groups if len(part)]
        single = len(groups) <= 1
        if not groups:  # nothing with geometry: still a valid (empty) point shapefile
            groups = [("points", frame.iloc[0:0])]
        for fam, part in groups:
            stem = layer if single else f"{layer}_{fam}"
            shp = Path(tmp) / f"{stem}.shp"
            pyogrio.write_dataframe(
                part, shp, driver="ESRI Shapefile", encoding="UTF-8",
                geometry_type=None if len(part) else "Point",
            )
            written.extend(sorted(Path(tmp).glob(f"{stem}.*")))
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for file in written:
                zf.write(file, arcname=file.name)
            if any(mapping[c] != c for c in attrs):
                zf.writestr(f"{layer}_fields.csv", pd.DataFrame(
                    {"field": list(mapping.values()), "column": list(mapping.keys())}
                ).to_csv(index=False))


#: First characters that make Excel/WPS treat a cell as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value):
    """Prefix text that a spreadsheet would run as a formula with an apostrophe.

    Numbers written as text ("-3.5") are left alone; ``=HYPERLINK(...)`` from an
    uploaded attribute becomes ``'=HYPERLINK(...)``, shown as text.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def _write_csv(gdf: gpd.GeoDataFrame, dest: Path) -> None:
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for col in frame.columns:
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(_defuse)
    geoms = gdf.geometry.values
    has = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = shapely.point_on_surface(geoms[has])
    frame["lon"] = pd.NA
    frame["lat"] = pd.NA
    frame.loc[has, "lon"] = shapely.get_x(pts).round(7)
    frame.loc[has, "lat"] = shapely.get_y(pts).round(7)
    frame["wkt"] = [shapely.to_wkt(g, rounding_precision=7) if g is not None else "" for g in geoms]
    frame.to_csv(dest, index=False, encoding="utf-8-sig")


def _write(gdf: gpd.GeoDataFrame, dest: Path, fmt: str, layer: str) -> None:
    if fmt == "geojson":
        pyogrio.write_dataframe(_rfc7946_orient(gdf), dest, driver="GeoJSON",
                                layer_options={"RFC7946": "YES", "WRITE_NAME": "NO"})
    elif fmt == "gpkg":
        pyogrio.write_dataframe(gdf, dest, driver="GPKG", layer=layer,
                                geometry_type=gpkg_geometry_type(gdf))
    elif fmt == "shp":
        _write_shapefile_zip(gdf, dest, layer)
    elif fmt == "kml":
        name_field = "name" if "name" in gdf.columns else ("item_id" if "item_id" in gdf.columns else None)
        options = {"NameField": name_field} if name_field else {}
        pyogrio.write_dataframe(gdf[~gdf.geometry.isna()], dest, driver="KML", dataset_options=options)
    elif fmt == "csv":
        _write_csv(gdf, dest)


def export_layer(
    gdf: gpd.GeoDataFrame,
    path: str | os.PathLike,
    *,
    fmt: str | None = None,
    layer: str = "layer",
) -> Path:
    """Write a layer to a file, atomically.

    Parameters
    ----------
    gdf : GeoDataFrame
        Any CRS; written in WGS-84.
    path : path-like
        Output file. For ``shp`` a ``.zip`` archive is written.
    fmt : {"geojson", "gpkg", "shp", "kml", "csv"}, optional
        Guessed from the suffix when omitted.
    layer : str
        Layer / file stem inside GeoPackage and Shapefile outputs.
    """
    fmt = format_for(path, fmt)
    # the layer names files (shapefile parts, export_bytes' temporary file):
    # a separator or ".." would write outside the folder meant for them
    if not layer or layer in {".", ".."} or any(ch in layer for ch in "/\\\x00"):
        raise InputFileError(f"layer name {layer!r} cannot be a file name (empty, '..', or holds / or \\)")
    dest = Path(path).expanduser()
    if fmt == "shp" and dest.suffix.lower() != ".zip":
        dest = dest.with_suffix(".zip")
    frame = writable_frame(gdf)
    try:
        with atomic_path(dest) as tmp:
            _write(frame, tmp, fmt, layer)
    except StoreError:
        raise
    except OSError as exc:
        raise StoreError(f"cannot write {dest}: {exc.strerror or exc}") from None
    return dest


def export_bytes(gdf: gpd.GeoDataFrame, fmt: str, *, layer: str = "layer") -> tuple[bytes, str, str]:
    """A layer as file contents for a download button: ``(data, suffix, mime)``."""
    fmt = format_for("x", fmt)
    suffix, mime = FORMATS[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        dest = export_layer(gdf, Path(tmp) / f"{layer}{suffix}", fmt=fmt, layer=layer)
        data = dest.read_bytes()
    return data, suffix, mime


def feature_json(gdf: gpd.GeoDataFrame) -> list[dict]:
    """Features of a frame as RFC 7946 GeoJSON dicts (WGS-84), for the CLI and the app."""
    frame = _rfc7946_orient(writable_frame(gdf))
    buf = io.StringIO(frame.to_json(na="null", drop_id=True, ensure_ascii=False))
    return json.load(buf)["features"]

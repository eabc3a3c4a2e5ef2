"""Command line: ``planatlas build | layers | geocode | export | coverage | presets``.

Every failure a user can cause (a missing file, an unknown place or layer, an
unwritable folder) prints one line starting with ``planatlas: error:`` and
exits with status 1; usage errors exit with status 2 as argparse does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ._errors import PlanatlasError


def _print_table(frame) -> None:
    import pandas as pd

    with pd.option_context("display.max_rows", 200, "display.max_columns", 20, "display.width", 160):
        print(frame.to_string(index=False))


def _rounded(table):
    """Whole people, two decimals elsewhere: what a planner reads in a table."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype.kind == "f":
            people = col.startswith("population") and not col.endswith("pct") or col == "residents_outside"
            out[col] = out[col].round(0).astype("Int64") if people else out[col].round(2)
    return out


def cmd_build(args) -> int:
    from layers.build import build_all, layer_table

    from .store import write_store

    result = build_all(args.report)
    path = write_store(result.layers, args.out)
    if args.json:
        print(json.dumps({"store": str(path), "report": result.report_name,
                          "layers": {k: len(v) for k, v in result.layers.items()},
                          "summary": result.summary.as_dict()}, ensure_ascii=False, indent=2))
        return 0
    print(f"report: {result.report_name}")
    print(result.summary.as_text())
    print()
    _print_table(layer_table(result))
    print(f"\nwrote {path}")
    return 0


def cmd_layers(args) -> int:
    from .store import list_layers

    meta = list_layers(args.store)
    cols = [c for c in ("name", "title_zh", "title_en", "n_features", "geometry_type", "source_datum",
                        "precision") if c in meta.columns]
    _print_table(meta[cols])
    return 0


def cmd_geocode(args) -> int:
    from ._errors import UnknownPlaceError
    from .geocode import Geocoder

    try:
        feature = Geocoder.default().feature(args.name)
    except UnknownPlaceError:
        if not args.online:
            raise
        from .online import geocode_online

        feature = geocode_online(args.name)
        feature["properties"].setdefault("id", "online")
        feature["properties"].setdefault("kind", "online result")
    if args.json:
        print(json.dumps(feature, ensure_ascii=False, indent=2))
    else:
        p = feature["properties"]
        geom = feature["geometry"]
        where = "no location (unresolved)" if geom is None else f"{geom['type']}"
        if geom is not None and geom["type"] == "Point":
            where = f"{geom['coordinates'][0]:.6f}, {geom['coordinates'][1]:.6f} (lon, lat, WGS-84)"
        print(f"{p['name']} [{p['id']}, {p['kind']}] {where}")
        print(f"  precision: {p['precision']}; source: {p['source']} (datum of source: {p['source_datum']})")
    return 0


def _read_layer_arg(args):
    from .store import ensure_store, read_layer

    store = ensure_store(args.store) if args.store is None else Path(args.store)
    return read_layer(args.layer, path=store)


def cmd_export(args) -> int:
    from .export import export_layer

    gdf = _read_layer_arg(args)
    path = export_layer(gdf, args.out, fmt=args.format, layer=args.layer)
    print(f"wrote {len(gdf)} features of {args.layer} to {path}")
    return 0


def cmd_presets(args) -> int:
    from .standards import list_presets

    _print_table(list_presets())
    return 0


def cmd_coverage(args) -> int:
    from layers.districts import districts

    from .coverage import run_coverage
    from .export import export_layer

    facilities = _read_layer_arg(args)
    network = None
    if args.method == "network":
        if not args.network:
            raise PlanatlasError("--method network needs --network FILE (.osm, .osm.pbf, .graphml or .gpkg)")
        from .network import load_network

        network = load_network(args.network, mode=args.mode)
    population = None
    if args.population:
        from .population import load_population

        population = load_population(args.population)
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_coverage(
            facilities, preset=args.preset, distance_m=args.distance, minutes=args.minutes,
            speed_m_per_min=args.speed, method=args.method, network=network, population=population,
            districts=districts(),
        )
    for w in caught:  # e.g. facilities too far from any street: said, never dropped silently
        print(f"planatlas: warning: {w.message}", file=sys.stderr)
    p = result.parameters
    print(f"coverage of {args.layer} ({p.get('n_facilities_used', '?')} facilities), "
          f"method {p['method']}, {p['distance_m']:.0f} m"
          + (f" ({p['preset']}: {p.get('preset_source', '')})" if p.get("preset") else ""))
    if "covered_km2" in p:
        line = f"covered {p['covered_km2']:.2f} km² of {p['area_km2']:.0f} km²"
        if p.get("population_covered") is not None:
            line += (f"; {p['population_covered']:,.0f} of {p['population']:,.0f} residents "
                     f"({p['population_covered_pct']:.2f}%)")
        print(line)
    print()
    _print_table(_rounded(result.table))
    if args.out:
        out = Path(args.out)
        fmt = out.suffix.lower()
        if fmt == ".gpkg":
            from .store import write_store

            write_store({"service_area": result.service_area, "gaps": result.gaps,
                         "grid": result.grid}, out)
        else:
            export_layer(result.service_area, out, layer="service_area")
        csv = out.with_suffix(".csv")
        result.table.to_csv(csv, index=False, encoding="utf-8-sig")
        print(f"\nwrote {out} and {csv}")
    if args.distance_tif:
        print(f"wrote {_distance_tif(args, facilities, network, result)}")
    return 0


def _distance_tif(args, facilities, network, result) -> Path:
    """Distance-to-nearest-facility GeoTIFF: along streets, or straight-line on the population grid."""
    if network is not None:
        import warnings

        from .isochrones import distance_raster, nearest_facility_distances

        with warnings.catch_warnings():  # facilities off the network were reported above
            warnings.simplefilter("ignore", UserWarning)
            reach = nearest_facility_distances(network, facilities,
                                               cutoff_m=result.parameters["distance_m"] * 2)
        return distance_raster(reach, cell_m=50.0).to_geotiff(args.distance_tif)
    from .coverage import distance_surface_geotiff

    # the population grid run_coverage used (census surface or the user's raster)
    distance_surface_geotiff(facilities, args.distance_tif, like=result.population)
    return Path(args.distance_tif)


def build_parser() -> argparse.ArgumentParser:
    from .export import FORMATS

    parser = argparse.ArgumentParser(
        prog="planatlas",
        description="A city work report as planning layers, and 15-minute service-circle analysis.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="parse and geocode a report, write every layer into a GeoPackage")
    p.add_argument("--report", help="report file (UTF-8 or GBK); default: the embedded Jinan 2023 report")
    p.add_argument("--out", help="GeoPackage to write (default: the user data folder)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("layers", help="list the layers of a store")
    p.add_argument("--store", help="GeoPackage (default: the user data folder's)")
    p.set_defaults(func=cmd_layers)

    p = sub.add_parser("geocode", help="look a place up in the gazetteer")
    p.add_argument("name", help="place name or alias, e.g. 济西湿地")
    p.add_argument("--json", action="store_true", help="print a GeoJSON Feature with provenance")
    p.add_argument("--online", action="store_true",
                   help="if the gazetteer lacks it, ask OpenStreetMap Nominatim (needs PLANATLAS_ALLOW_ONLINE=1)")
    p.set_defaults(func=cmd_geocode)

    p = sub.add_parser("export", help="write a layer as GeoJSON, GeoPackage, Shapefile, KML or CSV")
    p.add_argument("--layer", required=True)
    p.add_argument("--format", choices=sorted(FORMATS), help="default: from the --out suffix")
    p.add_argument("--out", required=True)
    p.add_argument("--store", help="GeoPackage to read (default: the user data folder's, built if missing)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("presets", help="list the standards presets for service circles")
    p.set_defaults(func=cmd_presets)

    p = sub.add_parser("coverage", help="who is within reach of a facility layer, by district")
    p.add_argument("--layer", required=True, help="facility layer of the store, e.g. parks")
    p.add_argument("--preset", help="standards preset, e.g. gb50180-15min (see `planatlas presets`)")
    p.add_argument("--distance", type=float, help="distance in metres (instead of a preset)")
    p.add_argument("--minutes", type=float, help="minutes of travel (instead of a preset)")
    p.add_argument("--speed", type=float, help="speed in metres per minute (default: the preset's or 80)")
    p.add_argument("--method", choices=["buffer", "network"], default="buffer")
    p.add_argument("--network", help="street network file for --method network")
    p.add_argument("--mode", choices=["walk", "bike", "drive"], default="walk")
    p.add_argument("--population", help="population GeoTIFF (default: surface from the 2020 census)")
    p.add_argument("--out", help="write results (.gpkg with service_area, gaps and grid; or .geojson)")
    p.add_argument("--distance-tif", help="also write distance to the nearest facility as a GeoTIFF (metres)")
    p.add_argument("--store", help="GeoPackage to read")
    p.set_defaults(func=cmd_coverage)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except PlanatlasError as exc:
        print(f"planatlas: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("planatlas: interrupted; nothing was written", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

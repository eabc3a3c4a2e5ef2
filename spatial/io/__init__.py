"""Files in and out: reading what users give planatlas, and exporting what it makes.

Reading (:mod:`spatial.io.uploads`) is where planatlas meets files from
strangers, so it is one module per concern, each small enough to audit:

``_limits``   size limits, display names, control characters, no ``/vsi*`` paths
``_zip``      safe unpacking: zip slip, symbolic links, member count, total size, zip bombs, GBK names
``_formats``  one reader per format, each with the one GDAL driver its extension names (CSV by Python)
``_checks``   CRS, coordinate sanity (swapped, not degrees, outside China), repairs, column names, datum
``uploads``   :func:`read_upload` and :func:`list_layers`: the pipeline of those steps
``export``    :func:`export_layer` and :func:`export_bytes`: GeoJSON, GeoPackage, Shapefile, KML, CSV

The importers of a city's own data (used by :mod:`spatial.intake`):

``osm``       OSM extracts (``.osm.pbf``, ``.osm``) in one streaming pyosmium pass
``poi``       AMap / Baidu / Tencent POI exports (CSV, Excel, place-API JSON)
``roads``     road centrelines noded into a routable network
``fetch``     opt-in download of a place's OSM data as an ``.osm`` file
"""

from __future__ import annotations

from .export import FORMATS, export_bytes, export_layer, feature_json, format_for
from .uploads import SUPPORTED_UPLOADS, UploadResult, describe_limits, list_layers, read_upload

__all__ = [
    "FORMATS",
    "SUPPORTED_UPLOADS",
    "UploadResult",
    "describe_limits",
    "export_bytes",
    "export_layer",
    "feature_json",
    "format_for",
    "list_layers",
    "read_upload",
]

"""planatlas: a Chinese city work report as planning layers, and the analyses planners run on them.

Modules, one per concept:

``report``      the report parser (hierarchy, items, spans)
``quantities``  quantities and the 2023-vs-2022 target table
``gazetteer``   the authored place list with provenance
``geocode``     place mentions in items, resolved through the gazetteer
``datum``       WGS-84 / GCJ-02 / BD-09 conversion
``projection``  CRS helpers (store EPSG:4326, measure EPSG:4548)
``store``       the GeoPackage store, written atomically
``export``      GeoJSON / GeoPackage / Shapefile / KML / CSV export
``circles``     Euclidean service circles
``network``     street networks from local files or opt-in downloads
``isochrones``  multi-source network distances and service areas
``population``  population rasters
``coverage``    coverage by district, gaps, grids
``standards``   life-circle and park-radius presets with their sources
``webmap``      Folium maps that draw offline
``uploads``     safe reading of user files
"""

__version__ = "0.1.0"

"""planatlas: a Chinese city work report as planning layers, and the analyses planners run on them.

Modules, one per concept (``docs/architecture.md`` shows how data flows between them):

``report``      the report parser (hierarchy, items, spans)
``quantities``  quantities and the 2023-vs-2022 target table
``gazetteer``   the authored place list with provenance
``geocode``     place mentions in items, resolved through the gazetteer
``datum``       WGS-84 / GCJ-02 / BD-09 conversion
``projection``  CRS helpers (store EPSG:4326, measure EPSG:4548)
``vocab``       every code the data carries, with its Chinese and English label
``layerspec``   a layer's declaration: titles, provenance, role, order, style as data
``store``       the project store (GeoPackage), written and updated atomically
``thresholds``  reach as distance, minutes × speed or a preset, validated once
``standards``   life-circle and park-radius presets with their sources
``circles``     Euclidean service circles
``network``     street networks from local files or opt-in downloads
``isochrones``  multi-source network distances and service areas
``population``  population rasters
``coverage``    coverage by district, gaps, grids
``facilities``  life-circle facility types from OSM tags, vendor categories and names (tables in ``data/``)
``intake``      a city's own data into the store in one step each: OSM, POIs, roads, units, population
``io``          reading user files safely, and exports (a package)
``webmap``      Folium maps that draw offline (a package)
``online``      opt-in online sources with a disk cache
``cli``         the command line (a package; the one part that may build the default store)
"""

__version__ = "0.2.0"

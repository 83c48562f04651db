"""Open a GeoPackage layer as QGIS does and print what a user sees (run with QGIS's Python).

Usage: python3 open_styled.py GPKG LAYER  ->  one JSON object on stdout.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsVectorLayer  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
path, name = sys.argv[1], sys.argv[2]
layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
renderer = layer.renderer()
out = {
    "valid": layer.isValid(),
    "crs": layer.crs().description(),
    "renderer": renderer.type() if renderer else None,
    "attribute": renderer.classAttribute() if hasattr(renderer, "classAttribute") else None,
    "classes": len(renderer.ranges()) if hasattr(renderer, "ranges") else None,
    "lower_bounds": [r.lowerValue() for r in renderer.ranges()]
    if hasattr(renderer, "ranges")
    else None,
    "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())},
}
print(json.dumps(out), flush=True)
# QGIS 3.22 can crash in exitQgis() while layers are alive: leave without tearing down
os._exit(0)

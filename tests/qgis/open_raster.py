"""Open rasters as QGIS does (its default style included) and print what a user sees (run with
QGIS's Python).

Usage: python3 open_raster.py RASTER...  ->  one JSON object on stdout: per raster, the
renderer QGIS chose and its legend (label, colour) entries.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsRasterLayer  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
out = {}
for path in sys.argv[1:]:
    layer = QgsRasterLayer(path, os.path.basename(path), "gdal")
    renderer = layer.renderer()
    legend = [(label, colour.name()) for label, colour in renderer.legendSymbologyItems()]
    out[path] = {"valid": layer.isValid(), "renderer": renderer.type(), "legend": legend}
print(json.dumps(out, ensure_ascii=False), flush=True)
# QGIS 3.22 can crash in exitQgis() while layers are alive: leave without tearing down
os._exit(0)

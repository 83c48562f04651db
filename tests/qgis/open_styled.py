"""Open a GeoPackage layer as QGIS does and print what a user sees (run with QGIS's Python).

Usage: python3 open_styled.py GPKG LAYER  ->  one JSON object on stdout: the default style's
renderer and rules, the CRS, the column aliases, and for every stored style of the layer the
legend classes its features are drawn with and how many are drawn with none.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsRenderContext, QgsVectorLayer  # noqa: E402
from qgis.PyQt.QtXml import QDomDocument  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
path, name = sys.argv[1], sys.argv[2]
layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")


def drawn(renderer):
    """{legend label: features} and the number of features drawn with no symbol."""
    ctx = QgsRenderContext()
    renderer.startRender(ctx, layer.fields())
    labels = {i.ruleKey(): i.label() for i in renderer.legendSymbolItems()}
    seen, none = {}, 0
    for feature in layer.getFeatures():
        # a rule-based renderer also lists its root rule, which has no legend entry
        keys = [k for k in renderer.legendKeysForFeature(feature, ctx) if k in labels]
        none += not keys
        for k in keys:
            seen[labels[k]] = seen.get(labels[k], 0) + 1
    renderer.stopRender(ctx)
    return seen, none


renderer = layer.renderer()
out = {
    "valid": layer.isValid(),
    "crs": layer.crs().description(),
    "renderer": renderer.type() if renderer else None,
    "rules": [(r.filterExpression(), r.label()) for r in renderer.rootRule().children()]
    if renderer and renderer.type() == "RuleRenderer"
    else None,
    "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())},
    "features": layer.featureCount(),
    "styles": {},
}
count, ids, names = layer.listStylesInDatabase()[:3]
for sid, sname in list(zip(ids, names))[:count]:  # the layer's own styles come first
    qml = layer.getStyleFromDatabase(sid)
    doc = QDomDocument()
    doc.setContent(qml[0] if isinstance(qml, tuple) else qml)
    layer.importNamedStyle(doc)
    classes, none = drawn(layer.renderer())
    out["styles"][sname] = {"renderer": layer.renderer().type(), "drawn": classes, "none": none}
print(json.dumps(out, ensure_ascii=False), flush=True)
# QGIS 3.22 can crash in exitQgis() while layers are alive: leave without tearing down
os._exit(0)

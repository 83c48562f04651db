"""What a user opens: palettes, class breaks, tables, the GeoPackage and its styles, maps, series
figures, the report.

The layers and the import rule: docs/architecture.md."""

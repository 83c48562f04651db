"""The base every layer builds on: errors, units, the grid, raster and table I/O, logging and the
configuration.

The layers and the import rule: docs/architecture.md."""

"""The method's formulas on plain arrays and tables, each beside its numba kernel: fluxes, trends,
balance indicators, uncertainty, downscaling, spatial statistics, the emission model, IPCC Tier
1.

The layers and the import rule: docs/architecture.md."""

"""Regions and their sums: the hierarchy, code matching, exact zonal totals, emissions per region,
regional budgets, independent layers, regional scenarios.

The layers and the import rule: docs/architecture.md."""

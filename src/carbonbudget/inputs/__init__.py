"""A user's files made ready: checks of every input, alignment onto the grid, lithology, gridded
inventories, the demo's synthetic inputs.

The layers and the import rule: docs/architecture.md."""

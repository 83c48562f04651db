"""The workflow's vocabulary: paths, the stages each rule runs, publishing and the end-of-run
summary.

The layers and the import rule: docs/architecture.md."""

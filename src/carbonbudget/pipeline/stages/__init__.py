"""The stages of the workflow, one module per rule file: ``workflow/rules/<name>.smk`` runs
``workflow/scripts/<name>.py``, which runs :mod:`carbonbudget.pipeline.stages.<name>`."""

"""The plain functions behind the ``autolabel`` commands: annotate (and its
part files and engines), import, evaluate, select, audit, bootstrap, convert
and tag. ``autolabel_spacy/cli`` wraps each in a thin typer command."""

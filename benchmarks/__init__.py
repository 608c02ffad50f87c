"""The benchmark commands, each a module run from the repository root as
``python -m benchmarks.NAME`` (``project.yml`` has a command for each).
``compare_ner`` holds the train / evaluate / speed workers the others share;
``report`` stamps and writes the result tables."""

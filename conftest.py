"""Test tiers, as spaCy has them: ``pytest`` runs the fast tier (the
edit-test loop, under two minutes on 2 cores); ``pytest --slow`` runs every
test (``make test``, and so CI). Tests outside the fast tier carry a marker
that says why: ``slow`` (trains, builds venvs, starts Ray or runs many
generated examples), ``corpus`` (reads the real corpora of ../shared/data),
``demo`` (runs the project's demo workflow).
"""

import pytest

TIER_MARKERS = {
    "slow": "trains real-size models, builds venvs, starts Ray or runs many generated examples: runs with --slow",
    "corpus": "reads the real corpora of ../shared/data (the shared_data fixture): runs with --slow",
    "demo": "runs the spaCy project's demo workflow end to end: runs with --slow",
}


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true", default=False, help="run every test, not only the fast tier")


def pytest_configure(config):
    for name, meaning in TIER_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()) and item.get_closest_marker("corpus") is None:
            raise pytest.UsageError(f"{item.nodeid} reads the real corpora (shared_data): mark it @pytest.mark.corpus")
    if config.getoption("--slow"):
        return
    for item in items:
        tiers = [name for name in TIER_MARKERS if item.get_closest_marker(name) is not None]
        if tiers:
            item.add_marker(pytest.mark.skip(reason=f"{'/'.join(tiers)} test: runs with --slow (make test)"))

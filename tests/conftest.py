import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("AUTOLABEL_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora. In CI a missing ../shared/data is an error, not a skip."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the shared corpora are missing at {SHARED_DATA}")
        pytest.skip(f"shared corpora not found at {SHARED_DATA}")
    return SHARED_DATA

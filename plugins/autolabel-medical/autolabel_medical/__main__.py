"""``python -m autolabel_medical [--out DIR]``: build the public term files."""

import sys

from .terminologies import main

sys.exit(main())

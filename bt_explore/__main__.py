"""``python -m bt_explore`` is ``bt-explore``."""

import sys

from bt_explore.cli import main

sys.exit(main())

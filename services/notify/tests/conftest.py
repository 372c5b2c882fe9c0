"""Notify's tests import their helpers from `notify_testkit` beside this file."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

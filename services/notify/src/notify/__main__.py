"""`python -m notify`: run one notify instance (settings from the environment)."""

from brobygger_runtime.serve import serve
from notify.bootstrap import build

runtime, app = build()
serve(app, runtime.settings)

"""`python -m notify`: run one notify instance (settings from the environment)."""

from brobygger_runtime.serve import run_service
from notify.bootstrap import Settings, build

if __name__ == "__main__":
    run_service(Settings, build)

"""`python -m console`: run the console (settings from the environment)."""

from brobygger_runtime.serve import run_service
from console.bootstrap import Settings, build

if __name__ == "__main__":
    run_service(Settings, build)

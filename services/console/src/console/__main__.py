"""`python -m console`: run the console (settings from the environment)."""

from brobygger_runtime.serve import run_service
from console.app import ConsoleSettings, build

if __name__ == "__main__":
    run_service(ConsoleSettings, build)

"""`python -m matching`: run one matching instance for one organisation."""

from brobygger_runtime.serve import run_service
from matching.bootstrap import Settings, build

if __name__ == "__main__":
    run_service(Settings, build)

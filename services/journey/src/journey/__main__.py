"""`python -m journey`: run one journey service instance."""

from brobygger_runtime.serve import run_service
from journey.bootstrap import Settings, build

if __name__ == "__main__":
    run_service(Settings, build)

"""`python -m referral`: run one referral service instance."""

from brobygger_runtime.serve import run_service
from referral.bootstrap import Settings, build

if __name__ == "__main__":
    run_service(Settings, build)

"""`python -m journey`: run one journey service instance."""

from brobygger_runtime.serve import serve
from journey.bootstrap import Settings, build


def main() -> None:
    settings = Settings()
    _runtime, app = build(settings)
    serve(app, settings)


if __name__ == "__main__":
    main()

"""`python -m matching`: run one matching instance for one organisation."""

from brobygger_runtime.serve import serve
from matching.bootstrap import Settings, build


def main() -> None:
    settings = Settings()
    _, app = build(settings)
    serve(app, settings)


if __name__ == "__main__":
    main()

"""``python -m generator.train``: runs :func:`generator.train.cli.main`."""

from generator.train.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

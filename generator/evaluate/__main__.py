"""``python -m generator.evaluate``: runs :func:`generator.evaluate.cli.main`."""

import sys

from generator.evaluate.cli import main

if __name__ == "__main__":
    sys.exit(main())

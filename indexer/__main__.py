"""Entry point for `python -m indexer`."""

import sys

from .cli import main

sys.exit(main())

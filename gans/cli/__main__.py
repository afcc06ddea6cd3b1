"""``python -m gans.cli``: the ``gans`` command."""

import sys

from gans.cli import main

sys.exit(main())

"""Let `python -m rawtools` behave exactly like the `rawtools` script."""

import sys

from rawtools.cli import main

sys.exit(main())

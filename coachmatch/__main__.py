"""``python -m coachmatch`` runs the command line."""

import sys

from coachmatch.cli import main

sys.exit(main())

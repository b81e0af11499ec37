"""``python -m integramon`` runs the console command."""

import sys

from integramon.cli import main

sys.exit(main())

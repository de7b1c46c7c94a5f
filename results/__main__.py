"""Submission export and checker: python -m results --help."""
import sys

from results.cli import main

sys.exit(main())

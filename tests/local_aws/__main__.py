"""Run the local AWS endpoint in the foreground: PYTHONPATH=tests python -m local_aws --help."""
import sys

from .server import main

sys.exit(main())

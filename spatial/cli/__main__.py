"""``python -m spatial.cli``: the same as the ``planatlas`` command."""

import sys

from . import main

sys.exit(main())

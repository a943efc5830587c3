"""`python -m soak` (`make soak`): see soak/__init__.py."""

import sys

from soak import main

sys.exit(main())

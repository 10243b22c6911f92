"""``python -m jupyter_opencode.testing``: run the fake model server."""

from __future__ import annotations

import sys

from ..demo.app import main

sys.exit(main())

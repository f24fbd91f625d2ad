"""A local stand-in for the platforms: serves their real response formats from a scenario."""

from __future__ import annotations

import time


def serve_until_interrupted() -> int:
    """Block the `python -m demo.…` command whose servers run in threads until Ctrl-C; its exit code (0)."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0

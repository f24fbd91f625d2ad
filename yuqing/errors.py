"""The errors both stores raise, so callers handle one kind whichever store failed."""

from __future__ import annotations


class StoreError(Exception):
    """A store cannot be reached or refused a write; callers spool, retry or report."""


class StoreUnavailable(StoreError):
    """A store is down (connection refused, file not writable, database locked or corrupt)."""

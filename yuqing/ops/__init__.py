"""The OpsDB: the day-to-day records in SQL (SQLite by default, PostgreSQL by URL).

Apps import the protocol from here and the shared operations beside it (lifecycle, queue, subscribers,
logins); only yuqing.wiring opens the implementation (yuqing.ops.sql).
"""

from __future__ import annotations

from yuqing.errors import StoreError, StoreUnavailable
from yuqing.ops.protocol import MESSAGE_LEASE, OpsDB, holder_is_dead, owner_id

__all__ = ["MESSAGE_LEASE", "OpsDB", "StoreError", "StoreUnavailable", "holder_is_dead", "owner_id"]

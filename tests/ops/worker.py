"""A separate process for the OpsDB concurrency tests: `python -m tests.ops.worker MODE URL START_AT [ARG]`.

MODE logins: ARG wrong passwords for alice at once (a thread each), from START_AT (epoch seconds).
MODE claims: claim every due outbox message as owner ARG, in batches of 7, from START_AT.
MODE open:   open the OpsDB (migrating it) at START_AT and count its audit entries.
The result is one JSON line on stdout.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime, timedelta


def main(argv: list[str]) -> int:
    mode, url, start_at = argv[0], argv[1], float(argv[2])
    from yuqing.ops.sql import SqlOps

    if mode == "open":
        time.sleep(max(0.0, start_at - time.time()))
        ops = SqlOps(url)
        print(json.dumps({"audit": len(ops.list_audit(limit=10_000))}))
        ops.close()
        return 0
    ops = SqlOps(url)
    time.sleep(max(0.0, start_at - time.time()))
    if mode == "logins":
        from dashboard import throttle

        messages: list[str] = []

        def one() -> None:
            messages.append(throttle.attempt(ops, "alice", "wrong-password", datetime.now(UTC)).message)

        threads = [threading.Thread(target=one) for _ in range(int(argv[3]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"messages": messages}, ensure_ascii=False))
    elif mode == "claims":
        got: list[int] = []
        while batch := ops.claim_messages(datetime.now(UTC), argv[3], limit=7, lease=timedelta(minutes=10)):
            got += [m.message_id for m in batch]  # type: ignore[misc]
        print(json.dumps({"claimed": got}))
    ops.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

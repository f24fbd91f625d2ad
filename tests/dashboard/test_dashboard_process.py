"""`yuqing dashboard` is the server process itself: `kill PID` stops the serving, no Streamlit child is left."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, wait_healthy


def _serving(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_kill_on_yuqing_dashboard_stops_the_server(tmp_path, free_port, sig) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YUQING_")}
    env.update(YUQING_STORE_PATH=str(tmp_path / "yuqing.db"), HOME=str(tmp_path))
    proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "dashboard", "--port", str(free_port)], env=env,
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{free_port}", proc)
        os.kill(proc.pid, sig)  # what an operator does to the pid `yuqing dashboard` printed
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while _serving(free_port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _serving(free_port), "something still serves the dashboard port after the kill"
    finally:
        if proc.poll() is None:
            proc.kill()

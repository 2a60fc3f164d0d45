"""Processes the deploy tests start (code server, daemon, Celery workers), stopped alike."""

from __future__ import annotations

import subprocess


def stop(processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """Terminate ``processes`` (the last started first), then wait for each, killing one that
    does not exit within ``timeout`` seconds."""
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()

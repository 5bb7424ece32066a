"""``audience serve`` as a child process, for the benchmarks and the tests: start it on a free
loopback port, wait until it answers, kill it (SIGKILL, as a crash) or stop it (SIGTERM)."""

from __future__ import annotations

import http.client
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from audience_dagster.config import process_environment
from audience_dagster.errors import CollectorError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """One ``audience serve`` child; ``env`` is added to this process's environment."""

    def __init__(self, env: dict[str, str] | None = None, port: int = 0, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.env = process_environment(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        log = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "audience_dagster.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CollectorError(f"`audience serve` exited with {self.process.returncode}; see {self.log_path}")
            if self.healthy():
                return self
            time.sleep(0.1)
        self.kill()
        raise CollectorError(f"`audience serve` did not answer on port {self.port} within {timeout:.0f}s")

    def healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/health")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: the crash a durable collector must survive."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM: a graceful stop (the open spool files are published); the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

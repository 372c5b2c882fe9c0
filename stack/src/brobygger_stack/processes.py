"""Running services as separate operating-system processes, as in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class ServiceProcess:
    """One service instance: `python -m <package>` with its environment."""

    package: str
    """referral, matching, journey or notify."""
    org_id: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def name(self) -> str:
        return f"{self.package}@{self.org_id}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceProcess":
        env = {**os.environ, **self.env, "SERVICE_NAME": self.package, "ORG_ID": self.org_id,
               "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(self.port)}
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.package], env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # signals are ours to send, one service at a time
        )
        return self

    def wait_ready(self, timeout: float = 60.0, whole: bool = False) -> None:
        """Until the API serves; with `whole`, until the broker and the consumer are up too."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.process and self.process.returncode}; log: {self.log_path}")
            try:
                response = httpx.get(self.url + "/health/ready", params={"whole": str(whole).lower()}, timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s ({last}); log: {self.log_path}")

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait: the service drains in-flight events and its outbox."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def memory_rss_mb(self) -> float | None:
        """Resident memory of the process, from /proc (Linux)."""
        if self.process is None:
            return None
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

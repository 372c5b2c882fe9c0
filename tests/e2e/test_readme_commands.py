"""What the README tells a newcomer to do, done as they would: `brobygger up`,
the printed logins, `brobygger token`, and curl-like calls with and without
the token."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from brobygger_stack.testing import listen_ports

CLI = Path(sys.executable).parent / "brobygger"


@pytest.mark.timeout(300)
def test_up_prints_logins_and_a_token_from_brobygger_token_opens_the_api(tmp_path, kafka_bootstrap):  # noqa: ANN001
    base, identity_port = listen_ports(12), listen_ports(1)
    workdir = tmp_path / "stack"
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen(
        [str(CLI), "up", "--workdir", str(workdir), "--base-port", str(base), "--identity-port", str(identity_port),
         "--kafka", kafka_bootstrap],
        stdout=log, stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items() if k != "TRUSTED_ISSUERS"},
    )
    journey = f"http://127.0.0.1:{base + 2}"
    try:
        deadline = time.monotonic() + 120
        while "running; Ctrl-C stops everything" not in (tmp_path / "up.log").read_text():
            assert up.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "brobygger up did not come up"
            time.sleep(0.3)
        printed = (tmp_path / "up.log").read_text()
        assert "mette" in printed and "coordinator" in printed and f"127.0.0.1:{identity_port}/realms/varde-kommune" in printed
        # the web console's address, where people log in with those logins
        console = re.search(r"web console: (http://127\.0\.0\.1:\d+)", printed)
        assert console, printed[-2000:]
        assert httpx.get(f"{console.group(1)}/refer/public", timeout=10).status_code == 200

        token = subprocess.run(
            [str(CLI), "token", "--org", "varde-kommune", "--user", "mette", "--workdir", str(workdir),
             "--identity-port", str(identity_port)],
            capture_output=True, text=True, timeout=60,
        )
        assert token.returncode == 0, token.stderr
        bearer = token.stdout.strip()
        with httpx.Client(timeout=10) as http:
            assert http.get(f"{journey}/journeys").status_code == 401
            allowed = http.get(f"{journey}/journeys", headers={"Authorization": f"Bearer {bearer}"})
            assert allowed.status_code == 200, allowed.text
            forged = http.get(f"{journey}/journeys", headers={"Authorization": f"Bearer {bearer[:-4]}AAAA"})
            assert forged.status_code == 401

        wrong = subprocess.run(
            [str(CLI), "token", "--org", "varde-kommune", "--user", "nobody", "--workdir", str(workdir),
             "--identity-port", str(identity_port)], capture_output=True, text=True, timeout=60)
        assert wrong.returncode != 0 and "no login" in wrong.stderr
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
        log.close()

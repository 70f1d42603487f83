"""`syncmap-tui emulator` as a separate process: start, serve, control, stop cleanly; refuse remote hosts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, EmulatorProcess

from syncmap_tui.emulator.cli import is_loopback, run_emulator_command


def test_serves_the_seeded_demo_and_stops_on_sigterm():
    with EmulatorProcess("--seed") as emulator:
        url = emulator.wait_for_url()
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        assert f"Account SID: {ACCOUNT_SID}" in emulator.output
        assert any(line.endswith(AUTH_TOKEN) for line in emulator.output)  # the documented local token

        with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN), trust_env=False, timeout=10) as client:
            services = client.get("/v1/Services")
            assert services.status_code == 200
            assert "demo-store" in {service["unique_name"] for service in services.json()["services"]}
            assert services.json()["meta"]["url"].startswith(f"{url}/v1/Services?")
            assert client.get("/v1/Services", auth=(ACCOUNT_SID, "wrong")).status_code == 401

            # Faults change at run time through the control endpoint.
            assert client.post("/__emulator__/faults", json={"fail_next": 1}).status_code == 200
            assert client.get("/v1/Services").status_code == 503
            client.post("/__emulator__/faults", json={"drop_next": 1})
            with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                client.get("/v1/Services")
            assert client.get("/v1/Services").status_code == 200

        assert emulator.terminate() == 0


def test_a_stop_does_not_wait_out_the_injected_latency_of_a_request_in_flight():
    """SIGTERM while a request waits out `--latency 60`: the emulator stopped only when the minute was
    up (uvicorn waits for every request in flight). It drops such a request at once, as a server
    going away would (Faults.release_holds)."""
    with EmulatorProcess("--seed", "--latency", "60") as emulator:
        url = emulator.wait_for_url()
        answers: list[object] = []

        def slow_request() -> None:
            with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN), trust_env=False, timeout=90) as client:
                try:
                    answers.append(client.get("/v1/Services").status_code)
                except httpx.TransportError as error:
                    answers.append(type(error))

        in_flight = threading.Thread(target=slow_request)
        in_flight.start()
        time.sleep(0.5)  # the request has arrived and waits out its latency
        assert emulator.terminate(timeout=15) == 0  # not the 60 s
        in_flight.join(10)
        assert answers and answers[0] in (httpx.RemoteProtocolError, httpx.ReadError), answers


def test_flags_and_environment_credentials_and_a_database_file(tmp_path):
    db = tmp_path / "sync.sqlite3"
    env = {**os.environ, "TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "TWILIO_AUTH_TOKEN": "real-looking-secret"}
    with EmulatorProcess("--db", str(db), "--fail-rate", "0", "--latency", "0-0.01", "--fault-seed", "1", env=env) as emulator:
        url = emulator.wait_for_url()
        assert "real-looking-secret" not in "\n".join(emulator.output)
        with httpx.Client(base_url=url, auth=("AC" + "a" * 32, "real-looking-secret"), trust_env=False) as client:
            assert client.post("/v1/Services", data={"UniqueName": "kept"}).status_code == 201
            assert client.get("/__emulator__/faults").json()["latency"] == [0, 0.01]
        assert emulator.terminate() == 0

    with EmulatorProcess("--db", str(db), "--account-sid", "AC" + "a" * 32, "--auth-token", "flag-token") as emulator:
        url = emulator.wait_for_url()
        assert "flag-token" not in "\n".join(emulator.output)
        with httpx.Client(base_url=url, auth=("AC" + "a" * 32, "flag-token"), trust_env=False) as client:
            assert client.get("/v1/Services/kept").status_code == 200
        assert emulator.terminate(signal.SIGINT) == 0  # Ctrl-C ends as cleanly as SIGTERM


def test_refuses_a_non_loopback_host(capsys):
    assert run_emulator_command(["--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert run_emulator_command(["--host", "192.168.1.10", "--port", "0"]) == 2


def test_refuses_bad_fault_flags(capsys):
    assert run_emulator_command(["--fail-rate", "3"]) == 2
    assert "fail_rate" in capsys.readouterr().err
    assert run_emulator_command(["--latency", "soon"]) == 2


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("::", False), ("example.com", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("modules", "absent"),
    [
        ("syncmap_tui.emulator", ("uvicorn", "starlette")),
        # What the editor imports for its embedded emulator: Starlette yes, uvicorn never.
        ("syncmap_tui.emulator.app, syncmap_tui.emulator.inprocess, syncmap_tui.emulator.seed", ("uvicorn",)),
    ],
)
def test_imports_stay_light(modules, absent):
    code = f"import sys, {modules}; print(sorted(m for m in {absent!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

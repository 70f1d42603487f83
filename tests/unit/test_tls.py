"""TLS: the client always verifies certificates, and the config refuses plain http off loopback.

The server here is a real HTTPS server on 127.0.0.1 with a self-signed certificate made by the
openssl CLI for this test. Verification that is on refuses it before a request (and so before the
credentials) is sent; a client that trusts the certificate explicitly reaches it, which shows
that the refusal is about trust and nothing else.
"""

from __future__ import annotations

import http.server
import inspect
import json
import re
import shutil
import ssl
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

import syncmap_tui
from syncmap_tui.config import ConfigError, load_config, resolve_target
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, RetryPolicy, SyncClient
from syncmap_tui.sync.errors import NetworkError

SID = "AC" + "1" * 32
TOKEN = "tls-test-token"
SERVICE_BODY = {"sid": "IS" + "2" * 32, "unique_name": "tls"}


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a small JSON body and remembers what reached it."""

    requests: list[tuple[str, str | None]]

    def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
        self.server.requests.append((self.path, self.headers.get("Authorization")))  # type: ignore[attr-defined]
        body = json.dumps(SERVICE_BODY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl CLI makes the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


@pytest.fixture
def https_server(certificate):
    cert, key = certificate
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    server.requests = []  # type: ignore[attr-defined]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    # A failed handshake raises in accept(); http.server drops such a connection quietly.
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def url_of(server) -> str:
    return f"https://127.0.0.1:{server.server_address[1]}"


async def no_sleep(_seconds: float) -> None:
    return None


@pytest.mark.parametrize("retry", [NO_RETRY, RetryPolicy()], ids=["no-retry", "default-retries"])
async def test_a_self_signed_certificate_is_refused_before_anything_is_sent(https_server, retry):
    async with SyncClient(
        Credentials.auth_token(SID, TOKEN), base_url=url_of(https_server), retry=retry, sleep=no_sleep
    ) as client:
        with pytest.raises(NetworkError) as caught:
            await client.fetch_service("tls")
    message = str(caught.value)
    assert re.search(r"certificate", message, re.IGNORECASE), message
    assert TOKEN not in message
    assert https_server.requests == [], "a request (with the credentials) reached a server that was not trusted"


async def test_the_same_server_answers_a_client_that_trusts_its_certificate(https_server, certificate):
    """The control: the server works, so the refusal above is verification and not a broken server."""
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    async with httpx.AsyncClient(verify=trusting) as http:
        response = await http.get(f"{url_of(https_server)}/v1/Services/tls")
    assert response.status_code == 200 and response.json() == SERVICE_BODY
    assert https_server.requests == [("/v1/Services/tls", None)]


def test_the_client_has_no_way_to_turn_verification_off():
    parameters = inspect.signature(SyncClient.__init__).parameters
    assert not {"verify", "ssl_context", "cert", "insecure"} & set(parameters)


UNVERIFIED = re.compile(
    r"verify\s*=\s*(False|0|None)\b"
    r"|CERT_NONE"
    r"|check_hostname\s*=\s*False"
    r"|_create_unverified_context"
    r"|PYTHONHTTPSVERIFY"
)


def test_no_source_file_turns_verification_off():
    package = Path(syncmap_tui.__file__).parent
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 20, "the package source was not found"
    hits = [
        f"{path.relative_to(package)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if UNVERIFIED.search(line)
    ]
    assert hits == []


# --- plain http is refused for hosts that are not loopback -----------------------------------


ENV = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}


@pytest.mark.parametrize("url", ["http://sync.twilio.com", "http://192.0.2.10:8777", "http://[2001:db8::1]:8777"])
def test_plain_http_base_url_for_a_remote_host_is_refused(url):
    with pytest.raises(ConfigError, match="plain http") as caught:
        resolve_target(base_url=url, environ=ENV)
    assert TOKEN not in str(caught.value)


def test_a_profile_with_a_plain_http_remote_base_url_is_refused(isolated_home):
    path = Path(isolated_home) / "xdg_config_home" / "syncmap-tui" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        f'active_profile = "remote"\n[profiles.remote]\naccount_sid = "{SID}"\nauth_token = "{TOKEN}"\n'
        'base_url = "http://sync.example.com"\n'
    )
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="plain http"):
        load_config(path)
    with pytest.raises(ConfigError, match="plain http"):
        resolve_target(environ={})


@pytest.mark.parametrize("url", ["http://127.0.0.1:8777", "http://localhost:8777", "http://[::1]:8777"])
def test_plain_http_is_accepted_for_loopback(url):
    assert resolve_target(base_url=url, environ=ENV).base_url == url


def test_https_is_accepted_for_a_remote_host():
    assert resolve_target(base_url="https://sync.example.com", environ=ENV).base_url == "https://sync.example.com"

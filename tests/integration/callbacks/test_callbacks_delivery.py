"""SSRF-safe delivery over real loopback HTTP(S): verified with the `standardwebhooks` package,
loopback refused in deployed mode, redirects not followed, the checked address pinned."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks import Webhook

from tests.fixtures.callbacks import CallbackReceiver
from wix_relay.domain.callbacks import CallbackSecret, encode_event, sign
from wix_relay.integrations.callback_delivery import (
    CallbackRefused,
    CallbackSender,
    DeliveryFailed,
    address_allowed,
)

SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
BODY = encode_event({"type": "import.ready", "timestamp": "t", "data": {"id": "imp-1"}})


def signed(webhook_id: str = "msg_1") -> dict[str, str]:
    return sign(CallbackSecret.parse(SECRET), webhook_id, int(time.time()), BODY)


class CountingResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror("unknown")
        return self.answers[host]


# --- the address rules ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1",
        "169.254.169.254", "fe80::1", "fc00::1", "fd12::1", "0.0.0.0", "::", "224.0.0.1",
        "ff02::1", "240.0.0.1", "255.255.255.255", "100.64.0.1", "198.18.0.1", "192.0.2.1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "2002:7f00:1::",
        "2002:a9fe:a9fe::", "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "2001:db8::1",
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address))


def test_loopback_only_is_allowed_locally() -> None:
    for address in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert address_allowed(ipaddress.ip_address(address), allow_loopback=True)
    for address in ("10.0.0.1", "169.254.169.254", "0.0.0.0", "fe80::1"):
        assert not address_allowed(ipaddress.ip_address(address), allow_loopback=True)


# --- deployed mode ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://localhost:{port}/hooks/",
        "https://127.0.0.1:{port}/hooks/",
        "https://[::1]:{port}/hooks/",
        "https://[::ffff:127.0.0.1]:{port}/hooks/",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
    ],
)
def test_deployed_mode_refuses_names_and_literals_that_are_not_public(
    callback_receiver: CallbackReceiver, url: str
) -> None:
    port = callback_receiver.url.split(":")[2].split("/")[0]
    with pytest.raises(CallbackRefused):
        CallbackSender().post(url.format(port=port), BODY, signed())
    assert callback_receiver.deliveries == []


def test_deployed_mode_refuses_a_name_resolving_to_loopback(
    callback_receiver: CallbackReceiver,
) -> None:
    port = int(callback_receiver.url.split(":")[2].split("/")[0])
    resolver = CountingResolver({"partner.example": ["93.184.216.34", "127.0.0.1"]})
    sender = CallbackSender(resolver=resolver)
    with pytest.raises(CallbackRefused, match="not public"):
        sender.post(f"https://partner.example:{port}/hooks/", BODY, signed())
    assert callback_receiver.deliveries == []


def test_deployed_mode_refuses_http(callback_receiver: CallbackReceiver) -> None:
    resolver = CountingResolver({"partner.example": ["93.184.216.34"]})
    with pytest.raises(CallbackRefused, match="https"):
        CallbackSender(resolver=resolver).post("http://partner.example/hooks/", BODY, signed())
    assert resolver.calls == []


# --- local mode: real deliveries --------------------------------------------------------------
def test_a_loopback_receiver_gets_a_verifiable_callback_locally(
    callback_receiver: CallbackReceiver,
) -> None:
    sender = CallbackSender(allow_loopback=True)
    assert sender.post(callback_receiver.url + "job-1?x=1", BODY, signed("msg_abc")) == 200
    (delivery,) = callback_receiver.deliveries
    assert delivery.path == "/hooks/job-1?x=1"
    assert delivery.body == BODY
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["webhook-id"] == "msg_abc"
    assert Webhook(SECRET).verify(delivery.body, delivery.headers)["data"] == {"id": "imp-1"}


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(
    callback_receiver: CallbackReceiver,
) -> None:
    # `.test` never resolves (RFC 6761): a second, system lookup would fail the delivery.
    port = int(callback_receiver.url.split(":")[2].split("/")[0])
    resolver = CountingResolver({"partner.test": ["127.0.0.1"]})
    sender = CallbackSender(allow_loopback=True, resolver=resolver)
    assert sender.post(f"http://partner.test:{port}/hooks/", BODY, signed()) == 200
    assert resolver.calls == ["partner.test"]
    assert callback_receiver.deliveries[0].headers["host"] == f"partner.test:{port}"


def test_redirects_are_not_followed(callback_receiver: CallbackReceiver) -> None:
    callback_receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(DeliveryFailed) as info:
        CallbackSender(allow_loopback=True).post(callback_receiver.url, BODY, signed())
    assert info.value.status == 302
    assert len(callback_receiver.deliveries) == 1


@pytest.mark.parametrize("status", [400, 404, 410, 500, 503])
def test_non_2xx_is_a_failed_attempt(callback_receiver: CallbackReceiver, status: int) -> None:
    callback_receiver.status = status
    with pytest.raises(DeliveryFailed) as info:
        CallbackSender(allow_loopback=True).post(callback_receiver.url, BODY, signed())
    assert info.value.status == status


def test_a_receiver_that_is_down_or_unknown_is_a_failed_attempt(
    callback_receiver: CallbackReceiver,
) -> None:
    callback_receiver.down = True
    sender = CallbackSender(allow_loopback=True)
    with pytest.raises(DeliveryFailed):
        sender.post(callback_receiver.url, BODY, signed())
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with pytest.raises(DeliveryFailed):
        sender.post(f"http://127.0.0.1:{port}/", BODY, signed())
    with pytest.raises(DeliveryFailed, match="resolve"):
        CallbackSender(resolver=CountingResolver({})).post("https://nowhere.test/", BODY, signed())


def test_a_silent_receiver_times_out() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        sender = CallbackSender(allow_loopback=True, read_timeout_s=0.2)
        with pytest.raises(DeliveryFailed, match="ReadTimeout"):
            sender.post(f"http://127.0.0.1:{port}/", BODY, signed())


def test_an_endless_answer_is_read_only_up_to_the_bound() -> None:
    """The receiver streams forever: only a bounded read lets the delivery return."""
    written = {"bytes": 0}

    def endless(server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            try:
                while written["bytes"] < 1024 * 1024 * 1024:
                    conn.sendall(b"x" * 65536)
                    written["bytes"] += 65536
            except OSError:
                pass

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        thread = threading.Thread(target=endless, args=(server,), daemon=True)
        thread.start()
        sender = CallbackSender(allow_loopback=True, max_response_bytes=1024)
        assert sender.post(f"http://127.0.0.1:{server.getsockname()[1]}/", BODY, signed()) == 200
        thread.join(timeout=30)
    assert written["bytes"] < 1024 * 1024 * 1024


# --- https: SNI and certificate checks use the name, the socket the checked address ----------
def _certificate(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.pem", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[dict[str, Any]]:
    cert, key = _certificate(tmp_path, "partner.test")
    seen: dict[str, Any] = {"sni": [], "hosts": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen["hosts"].append(self.headers.get("Host"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield {"port": server.server_port, "ca": str(cert), "seen": seen}
    finally:
        server.shutdown()
        server.server_close()


def test_https_pins_the_address_and_verifies_the_name(tls_receiver: dict[str, Any]) -> None:
    port = tls_receiver["port"]
    resolver = CountingResolver({"partner.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    sender = CallbackSender(allow_loopback=True, resolver=resolver, ca_certs=tls_receiver["ca"])
    assert sender.post(f"https://partner.test:{port}/hooks/", BODY, signed()) == 204
    assert tls_receiver["seen"]["sni"] == ["partner.test"]
    assert tls_receiver["seen"]["hosts"] == [f"partner.test:{port}"]
    # the certificate is for partner.test: the same address under another name is refused
    with pytest.raises(DeliveryFailed, match="SSLError"):
        sender.post(f"https://other.test:{port}/hooks/", BODY, signed())
    assert tls_receiver["seen"]["hosts"] == [f"partner.test:{port}"]

"""SSRF-safe POST of a signed callback to a partner's URL.

- Deployed: `https` only; every address the name resolves to must be public (not private,
  loopback, link-local, multicast, reserved, unspecified, shared/CGNAT, nor an IPv4 address
  embedded in IPv6 — mapped, 6to4, Teredo, NAT64 — that is any of those). Locally
  (`allow_loopback`, `make run`) loopback receivers and `http` are allowed as well.
- The name is resolved once, here, and the connection goes to the address that was checked
  (a urllib3 pool on the IP literal), while TLS SNI, certificate verification and the `Host`
  header use the name — so a second lookup (DNS rebinding) cannot redirect the request.
- No redirects (a 3xx is a failed attempt), no retries here (the queue retries), short connect
  and read timeouts, and at most `max_response_bytes` of the answer are read.

urllib3 is the library under requests (already shipped); it is imported on first use.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]

USER_AGENT = "wix-media-relay-callbacks"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class CallbackRefused(Exception):
    """Permanent: this URL may never be called (scheme, or an address that is not public)."""


class DeliveryFailed(Exception):
    """Retryable: the receiver could not be reached, timed out or did not answer 2xx."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_allowed(address: IPAddress, *, allow_loopback: bool = False) -> bool:
    """True for a public unicast address (and loopback when allowed)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or (address.teredo or (None, None))[1] or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_allowed(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not (
        address.is_multicast
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    host_header: str
    request_target: str


def _target(url: str, *, allow_http: bool) -> _Target:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_http and scheme == "http"):
        raise CallbackRefused("callback URLs must be https")
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        raise CallbackRefused("the callback URL must name a host and no credentials")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise CallbackRefused("the callback URL has an invalid port") from None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(scheme, host, port, netloc, target)


class CallbackSender:
    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        allow_http: bool | None = None,
        connect_timeout_s: float = 3.0,
        read_timeout_s: float = 5.0,
        max_response_bytes: int = 16 * 1024,
        resolver: Resolver = system_resolver,
        ca_certs: str | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self.allow_http = allow_loopback if allow_http is None else allow_http
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.max_response_bytes = max_response_bytes
        self._resolve = resolver
        self._ca_certs = ca_certs

    def resolve(self, url: str) -> tuple[_Target, str]:
        """The parsed target and the one checked address to connect to (CallbackRefused when
        any address of the name is not allowed; DeliveryFailed when the name does not resolve)."""
        target = _target(url, allow_http=self.allow_http)
        try:
            literal: IPAddress | None = ipaddress.ip_address(target.host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                addresses = list(self._resolve(target.host, target.port))
            except OSError:
                raise DeliveryFailed("the callback host does not resolve") from None
            if not addresses:
                raise DeliveryFailed("the callback host does not resolve")
        for address in addresses:
            if not address_allowed(
                ipaddress.ip_address(address.split("%", 1)[0]), allow_loopback=self.allow_loopback
            ):
                raise CallbackRefused("the callback host resolves to an address that is not public")
        return target, addresses[0]

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST once; the 2xx status, or CallbackRefused / DeliveryFailed."""
        import urllib3
        from urllib3.exceptions import HTTPError

        target, address = self.resolve(url)
        timeout = urllib3.Timeout(connect=self.connect_timeout_s, read=self.read_timeout_s)
        pool: Any
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                address,
                target.port,
                timeout=timeout,
                retries=False,
                maxsize=1,
                cert_reqs="CERT_REQUIRED",
                ca_certs=self._ca_certs or _default_ca_bundle(),
                assert_hostname=target.host,
                server_hostname=target.host,
            )
        else:
            pool = urllib3.HTTPConnectionPool(
                address, target.port, timeout=timeout, retries=False, maxsize=1
            )
        request_headers = {
            "Host": target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            **headers,
        }
        try:
            response = pool.urlopen(
                "POST",
                target.request_target,
                body=body,
                headers=request_headers,
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            try:
                response.read(self.max_response_bytes)
            finally:
                response.close()
        except HTTPError as exc:
            reason = type(exc).__name__
            raise DeliveryFailed(f"the callback receiver was not reachable ({reason})") from None
        finally:
            pool.close()
        status = int(response.status)
        if not 200 <= status < 300:
            raise DeliveryFailed(f"the callback receiver answered HTTP {status}", status)
        return status


def _default_ca_bundle() -> str:
    """The CA bundle requests uses (certifi, a dependency of requests)."""
    import certifi

    return certifi.where()

"""SSRF-safe fetching of user-supplied image URLs.

`check_url` decides whether a URL may be fetched at all; `fetch_url` fetches it, following
redirects by hand and checking every hop, with a byte cap and one deadline for the whole
fetch.

Only http and https URLs without credentials are allowed, and only when every address the
host resolves to is public. `FetchPolicy(allow_private=True)` (local development, tests)
also allows loopback and private networks, never the cloud metadata addresses.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import TYPE_CHECKING, Any

import httpcore
import httpx

from faceport.errors import InputTooLarge, UrlFetchFailed, UrlNotAllowed

if TYPE_CHECKING:
    from faceport.settings import Settings

__all__ = ["FetchPolicy", "Fetched", "HttpFetcher", "check_url", "fetch_url", "post_url"]

# Same shape as socket.getaddrinfo: resolve(host, port, family, type) -> [(.., sockaddr)].
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "faceport-fetch/0.1"


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False  # loopback/private allowed only when True (local dev, tests)
    max_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 10.0  # total time for the whole fetch including redirects
    max_redirects: int = 3


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str | None  # as the server said; callers sniff bytes themselves
    final_url: str


# --- which addresses are allowed ------------------------------------------------------


class _Kind(Enum):
    PUBLIC = "public"
    LOCAL = "local"  # loopback and private networks: allowed with allow_private
    FORBIDDEN = "forbidden"


def _nets(*cidrs: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Cloud metadata services: refused even with allow_private, since a dev box on a cloud VM
# would otherwise hand out its credentials. (AWS/GCP/Azure, AWS IPv6, Alibaba, Oracle.)
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_LOCAL = _nets(
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"
)
# Spelled out rather than trusting `is_global` alone, whose tables differ between Python
# patch releases.
_FORBIDDEN = _nets(
    "0.0.0.0/8",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/96",  # unspecified and the deprecated IPv4-compatible form
    "100::/64",
    "2001::/23",  # includes Teredo, whose embedded address we cannot vouch for
    "2001:db8::/32",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
)
# Prefixes that carry an IPv4 address in their last 32 bits (NAT64): judged by that address.
_NAT64 = _nets("64:ff9b::/96", "64:ff9b:1::/48")


def _classify(ip: IPAddress) -> _Kind:
    if ip in _METADATA:
        return _Kind.FORBIDDEN
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that reaches an IPv4 host is only as good as that host.
        if ip.ipv4_mapped is not None:
            return _classify(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return _classify(ip.sixtofour)
        if any(ip in net for net in _NAT64):
            return _classify(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if any(ip in net for net in _LOCAL):
        return _Kind.LOCAL
    if (
        any(ip in net for net in _FORBIDDEN)
        or not ip.is_global
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_link_local
        or ip.is_unspecified
    ):
        return _Kind.FORBIDDEN
    return _Kind.PUBLIC


def _address_allowed(ip: IPAddress, policy: FetchPolicy) -> bool:
    kind = _classify(ip)
    return kind is _Kind.PUBLIC or (kind is _Kind.LOCAL and policy.allow_private)


# --- URL and host checks ---------------------------------------------------------------


def _parse(url: str | httpx.URL, user_url: str) -> httpx.URL:
    """Parse with httpx itself, so the host we check is the host httpx connects to."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise UrlNotAllowed("The URL could not be parsed.", url=user_url) from exc
    if parsed.scheme not in ("http", "https"):
        raise UrlNotAllowed("Only http and https URLs are allowed.", url=user_url)
    if parsed.userinfo:
        raise UrlNotAllowed("URLs with credentials (user:password@) are not allowed.", url=user_url)
    if not parsed.raw_host:
        raise UrlNotAllowed("The URL has no host.", url=user_url)
    return parsed


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _resolve_checked(
    host: str, port: int, policy: FetchPolicy, resolve: Resolver, user_url: str
) -> list[str]:
    """Resolve host and return its addresses, refusing if ANY of them is not allowed.

    One bad address refuses the lot: a resolver that mixes a public and a private answer is
    exactly what a rebinding attacker serves.
    """
    try:
        infos = resolve(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UrlFetchFailed("The URL's host could not be resolved.", url=user_url) from exc
    addresses: list[str] = []
    for info in infos:
        raw = info[4][0]
        if not isinstance(raw, str):
            raise UrlNotAllowed("The URL's host resolves to an unusable address.", url=user_url)
        try:
            ip = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError as exc:
            raise UrlNotAllowed(
                "The URL's host resolves to an unusable address.", url=user_url
            ) from exc
        if not _address_allowed(ip, policy):
            # Deliberately not naming the address: it may be internal.
            raise UrlNotAllowed(
                "The URL points to an address that is not allowed (only public addresses "
                "are). For local development a server can allow loopback and private "
                "addresses with FACEPORT_ALLOW_PRIVATE_URLS=true.",
                url=user_url,
            )
        if str(ip) not in addresses:
            addresses.append(str(ip))
    if not addresses:
        raise UrlFetchFailed("The URL's host could not be resolved.", url=user_url)
    return addresses


def check_url(url: str, policy: FetchPolicy, resolve: Resolver = socket.getaddrinfo) -> None:
    """Raise UrlNotAllowed unless url is http(s) and every address its host resolves to is allowed.

    Raises UrlFetchFailed if the host does not resolve at all.
    """
    parsed = _parse(url, url)
    _resolve_checked(parsed.raw_host.decode("ascii"), _port(parsed), policy, resolve, url)


# --- pinned connections ----------------------------------------------------------------
#
# Why: checking a hostname and then letting the HTTP library resolve it again lets a DNS
# rebinding server answer "public" to the check and "169.254.169.254" to the connect. So the
# check lives in the one place that opens sockets: httpcore's network backend. httpcore hands
# `connect_tcp` the URL's hostname; we resolve it once per fetch (memoised, so the hop check
# and the connect see the very same answer), refuse unless every address is allowed, and
# open the socket to one of those checked IPs. Everything above the socket still sees the
# hostname, so the Host header and TLS SNI/certificate checks use the original name.
#
# The same backend clamps every connect/read/write to the fetch's deadline, which makes
# `timeout_s` a limit on the whole fetch rather than on each socket operation.


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def clamp(self, timeout: float | None, exc: type[Exception]) -> float:
        left = self.remaining()
        if left <= 0:
            raise exc("The fetch ran out of time.")
        return left if timeout is None else min(timeout, left)


class _MemoResolver:
    """One DNS answer per (host, port) for the whole fetch, checked once."""

    def __init__(self, policy: FetchPolicy, resolve: Resolver, user_url: str) -> None:
        self._policy = policy
        self._resolve = resolve
        self._user_url = user_url
        self._cache: dict[tuple[str, int], list[str]] = {}

    def addresses(self, host: str, port: int) -> list[str]:
        key = (host, port)
        if key not in self._cache:
            self._cache[key] = _resolve_checked(
                host, port, self._policy, self._resolve, self._user_url
            )
        return self._cache[key]


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context,
            server_hostname=server_hostname,
            timeout=self._deadline.clamp(timeout, httpcore.ConnectTimeout),
        )
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, resolver: _MemoResolver, deadline: _Deadline) -> None:
        self._resolver = resolver
        self._deadline = deadline
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for ip in self._resolver.addresses(host, port):
            try:
                stream = self._inner.connect_tcp(
                    ip,
                    port,
                    timeout=self._deadline.clamp(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _DeadlineStream(stream, self._deadline)
        raise last or httpcore.ConnectError("No address to connect to.")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("Unix sockets are never fetched.")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: building it loads the CA bundle (~40 ms), and contexts are safe to
    share between connections and threads."""
    return httpx.create_ssl_context(trust_env=False)


def _pinned_client(resolver: _MemoResolver, deadline: _Deadline) -> httpx.Client:
    transport = httpx.HTTPTransport(verify=_ssl_context(), trust_env=False)
    # httpx (pinned at 0.28.1) has no public hook for an httpcore network backend, so swap
    # the pool it built for an equivalent one that uses ours. Fail loudly if that changes.
    if not isinstance(getattr(transport, "_pool", None), httpcore.ConnectionPool):
        raise RuntimeError("httpx.HTTPTransport no longer exposes its pool; update fetch.py")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(),
        http1=True,
        http2=False,
        network_backend=_PinnedBackend(resolver, deadline),
    )
    # trust_env=False: an HTTP(S)_PROXY from the environment would take the connection
    # somewhere we never checked.
    return httpx.Client(transport=transport, trust_env=False, follow_redirects=False)


# --- fetching -------------------------------------------------------------------------


def fetch_url(
    url: str,
    policy: FetchPolicy,
    *,
    client: httpx.Client | None = None,
    resolve: Resolver = socket.getaddrinfo,
) -> Fetched:
    """GET url under policy and return its body.

    Raises UrlNotAllowed (scheme, credentials, or any hop's address not allowed),
    UrlFetchFailed (DNS, connect, timeout, HTTP status >= 400, too many redirects) and
    InputTooLarge (body over policy.max_bytes).

    Without `client`, connections are pinned to the checked addresses (see above). A
    caller-supplied client (tests, connection reuse) is used as it is: every hop is still
    checked, but where it connects is up to its transport.
    """
    deadline = _Deadline(policy.timeout_s)
    resolver = _MemoResolver(policy, resolve, url)
    own_client = client is None
    http = _pinned_client(resolver, deadline) if client is None else client
    try:
        return _fetch(url, policy, http, resolver, deadline)
    finally:
        if own_client:
            http.close()


def _fetch(
    url: str,
    policy: FetchPolicy,
    http: httpx.Client,
    resolver: _MemoResolver,
    deadline: _Deadline,
) -> Fetched:
    current = _parse(url, url)
    redirects = 0
    while True:
        resolver.addresses(current.raw_host.decode("ascii"), _port(current))
        left = deadline.remaining()
        if left <= 0:
            raise UrlFetchFailed("Fetching the URL timed out.", url=url)
        request = http.build_request(
            "GET",
            current,
            headers={
                "User-Agent": _USER_AGENT,
                "Accept": "*/*",
                # Compressed bodies would let a small download inflate past max_bytes
                # before we could count it; images gain nothing from it anyway.
                "Accept-Encoding": "identity",
            },
            timeout=httpx.Timeout(left),
        )
        try:
            response = http.send(request, stream=True, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise UrlFetchFailed("Fetching the URL timed out.", url=url) from exc
        except httpx.HTTPError as exc:
            raise UrlFetchFailed("The URL could not be fetched.", url=url) from exc
        try:
            if response.status_code in _REDIRECT_STATUSES:
                location = response.headers.get("location")
                if not location:
                    raise UrlFetchFailed(
                        "The URL answered with a redirect but no Location.", url=url
                    )
                redirects += 1
                if redirects > policy.max_redirects:
                    raise UrlFetchFailed(
                        f"The URL redirected more than {policy.max_redirects} times.", url=url
                    )
                try:
                    target = current.join(location)
                except httpx.InvalidURL as exc:
                    raise UrlFetchFailed("The URL redirected to an invalid URL.", url=url) from exc
                current = _parse(target, url)
                continue
            if response.status_code >= 300:
                raise UrlFetchFailed(
                    f"The URL answered with HTTP status {response.status_code}.",
                    url=url,
                    http_status=response.status_code,
                )
            data = _read_capped(response, policy, deadline, url)
            return Fetched(
                data=data,
                content_type=response.headers.get("content-type"),
                final_url=str(current),
            )
        finally:
            response.close()


def _read_capped(
    response: httpx.Response, policy: FetchPolicy, deadline: _Deadline, url: str
) -> bytes:
    too_large = InputTooLarge(
        f"The URL's body is larger than {policy.max_bytes} bytes.",
        url=url,
        max_bytes=policy.max_bytes,
    )
    declared = response.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > policy.max_bytes:
        raise too_large
    body = bytearray()
    try:
        # iter_raw: with Accept-Encoding identity these are the bytes we keep. No chunk_size,
        # so each network read is seen as it arrives: we hang up as soon as the cap is passed
        # or the deadline is (the latter matters for caller clients without our backend).
        # (A response built in memory, e.g. by httpx.MockTransport, arrives already read.)
        chunks = [response.content] if response.is_stream_consumed else response.iter_raw()
        for chunk in chunks:
            body += chunk
            if len(body) > policy.max_bytes:
                raise too_large
            if deadline.remaining() <= 0:
                raise UrlFetchFailed("Fetching the URL timed out.", url=url)
    except httpx.TimeoutException as exc:
        raise UrlFetchFailed("Fetching the URL timed out.", url=url) from exc
    except httpx.HTTPError as exc:
        raise UrlFetchFailed("The URL could not be fetched.", url=url) from exc
    return bytes(body)


# --- posting (webhooks) ---------------------------------------------------------------


def post_url(
    url: str,
    body: bytes,
    headers: dict[str, str],
    policy: FetchPolicy,
    *,
    resolve: Resolver = socket.getaddrinfo,
) -> int:
    """POST body to url under policy, connected to the address that was checked, and return
    the HTTP status. Redirects are not followed (a 3xx is an answer like any other) and the
    response body is not read.

    Raises UrlNotAllowed (scheme, credentials, address) and UrlFetchFailed (DNS, connect,
    timeout: the whole request must finish within policy.timeout_s).
    """
    target = _parse(url, url)
    deadline = _Deadline(policy.timeout_s)
    resolver = _MemoResolver(policy, resolve, url)
    resolver.addresses(target.raw_host.decode("ascii"), _port(target))
    with _pinned_client(resolver, deadline) as http:
        request = http.build_request(
            "POST",
            target,
            content=body,
            headers={"User-Agent": _USER_AGENT, **headers},
            timeout=httpx.Timeout(max(deadline.remaining(), 0.001)),
        )
        try:
            response = http.send(request, stream=True, follow_redirects=False)
        except httpx.TimeoutException as exc:
            raise UrlFetchFailed(f"Timed out after {policy.timeout_s:g} s.", url=url) from exc
        except httpx.HTTPError as exc:
            raise UrlFetchFailed(f"Could not connect: {exc}", url=url) from exc
        response.close()
        return response.status_code


# --- the Fetcher port ------------------------------------------------------------------


@dataclass(frozen=True)
class HttpFetcher:
    """`faceport.ports.Fetcher` over `check_url` and `fetch_url`."""

    policy: FetchPolicy = FetchPolicy()
    resolve: Resolver = socket.getaddrinfo

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpFetcher:
        return cls(
            FetchPolicy(
                allow_private=settings.allow_private_urls,
                max_bytes=settings.max_input_bytes,
                timeout_s=settings.fetch_timeout_s,
                max_redirects=settings.fetch_max_redirects,
            )
        )

    def check(self, url: str) -> None:
        check_url(url, self.policy, self.resolve)

    def fetch(self, url: str, *, max_bytes: int | None = None) -> tuple[bytes, str | None]:
        policy = self.policy if max_bytes is None else replace(self.policy, max_bytes=max_bytes)
        got = fetch_url(url, policy, resolve=self.resolve)
        return got.data, got.content_type

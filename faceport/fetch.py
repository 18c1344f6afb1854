"""The pinned HTTP transport: SSRF-safe fetching of user-supplied URLs and webhook POSTs.

The rules (which URLs and addresses are allowed) are `faceport.ssrf`'s; here they are
applied where sockets are opened. `fetch_url` follows redirects by hand and checks every
hop, with a byte cap and one deadline for the whole fetch; `post_url` sends a webhook on
the same pinned connection.
"""

from __future__ import annotations

import functools
import socket
import ssl
import time
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import httpcore
import httpx

from faceport.errors import InputTooLarge, UrlFetchFailed
from faceport.ssrf import (
    FetchPolicy,
    Resolver,
    check_url,
    parse_url,
    port_of,
    resolve_checked,
)

if TYPE_CHECKING:
    from faceport.settings import Settings

__all__ = ["FetchPolicy", "Fetched", "HttpFetcher", "check_url", "fetch_url", "post_url"]

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "faceport-fetch/0.1"


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str | None  # as the server said; callers sniff bytes themselves
    final_url: str


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
            self._cache[key] = resolve_checked(
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
    current = parse_url(url, url)
    redirects = 0
    while True:
        resolver.addresses(current.raw_host.decode("ascii"), port_of(current))
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
                current = parse_url(target, url)
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
    target = parse_url(url, url)
    deadline = _Deadline(policy.timeout_s)
    resolver = _MemoResolver(policy, resolve, url)
    resolver.addresses(target.raw_host.decode("ascii"), port_of(target))
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

    policy: FetchPolicy = field(default_factory=FetchPolicy)
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

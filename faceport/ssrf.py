"""The SSRF rules, without any I/O of their own: which URLs and which addresses may be
fetched. `faceport.fetch` applies them at connect time on the pinned transport; submit
applies `check_url` early to refuse bad URLs before anything is stored.

Only http and https URLs without credentials are allowed, and only when every address the
host resolves to is public. `FetchPolicy(allow_private=True)` (local development, tests)
also allows loopback and private networks, never the cloud metadata addresses.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import httpx

from faceport.errors import UrlFetchFailed, UrlNotAllowed

# Same shape as socket.getaddrinfo: resolve(host, port, family, type) -> [(.., sockaddr)].
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class FetchPolicy:
    allow_private: bool = False  # loopback/private allowed only when True (local dev, tests)
    max_bytes: int = 20 * 1024 * 1024
    timeout_s: float = 10.0  # total time for the whole fetch including redirects
    max_redirects: int = 3


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


def classify(ip: IPAddress) -> _Kind:
    if ip in _METADATA:
        return _Kind.FORBIDDEN
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form that reaches an IPv4 host is only as good as that host.
        if ip.ipv4_mapped is not None:
            return classify(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            return classify(ip.sixtofour)
        if any(ip in net for net in _NAT64):
            return classify(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
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


def address_allowed(ip: IPAddress, policy: FetchPolicy) -> bool:
    kind = classify(ip)
    return kind is _Kind.PUBLIC or (kind is _Kind.LOCAL and policy.allow_private)


# --- URL and host checks ---------------------------------------------------------------


def parse_url(url: str | httpx.URL, user_url: str) -> httpx.URL:
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


def port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def resolve_checked(
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
        if not address_allowed(ip, policy):
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
    parsed = parse_url(url, url)
    resolve_checked(parsed.raw_host.decode("ascii"), port_of(parsed), policy, resolve, url)

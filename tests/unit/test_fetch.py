"""Tests for faceport.fetch against a real HTTP server on 127.0.0.1.

Loopback is refused by default, so tests that need the server to answer use
`allow_private=True`; tests about public hostnames inject a resolver instead of real DNS.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from faceport.errors import InputTooLarge, UrlFetchFailed, UrlNotAllowed
from faceport.fetch import FetchPolicy, HttpFetcher, check_url, fetch_url

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
DEV = FetchPolicy(allow_private=True, timeout_s=3.0)
PUBLIC = FetchPolicy(timeout_s=3.0)

_stop = threading.Event()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _endless(self, chunked: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        block = b"x" * 16384
        try:
            while not _stop.is_set():
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
        except OSError:
            pass  # the client hung up, as it should

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        if path == "/ok":
            self._send(200, PNG, Content_Type="image/png")
        elif path == "/host":
            self._send(200, self.headers["Host"].encode(), Content_Type="text/plain")
        elif path == "/notfound":
            self._send(404, b"nope")
        elif path == "/redirect":
            self._send(302, Location=query["to"][0])
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, Location="/ok" if n == 0 else f"/chain/{n - 1}")
        elif path == "/loop":
            self._send(302, Location="/loop")
        elif path == "/exact":
            self._send(200, b"y" * 1000)
        elif path == "/big-declared":
            # Declares 10 MB, sends 10 bytes, then stalls: only an early refusal is fast.
            self.send_response(200)
            self.send_header("Content-Length", str(10 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            _stop.wait(5)
        elif path == "/big-chunked":
            self._endless(chunked=True)
        elif path == "/big-close":
            self._endless(chunked=False)
        elif path == "/slow":
            _stop.wait(5)
            if not _stop.is_set():
                self._send(200, PNG)
        elif path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            try:
                for _ in range(1000):
                    if _stop.wait(0.05):
                        return
                    self.wfile.write(b"z")
                    self.wfile.flush()
            except OSError:
                pass
        else:
            self._send(500)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up mid-body is the point of several tests


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    _stop.clear()
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        _stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


def resolver(*ips: str, calls: list[str] | None = None) -> Callable[..., list[tuple[Any, ...]]]:
    """A getaddrinfo stand-in: every host resolves to `ips`."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        if calls is not None:
            calls.append(host)
        out: list[tuple[Any, ...]] = []
        for ip in ips:
            if ":" in ip:
                out.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0)))
            else:
                out.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)))
        return out

    return resolve


# --- address rules -------------------------------------------------------------------

REFUSED_ALWAYS = [
    "169.254.169.254",
    "fd00:ec2::254",
    "::ffff:169.254.169.254",
    "169.254.1.1",
    "fe80::1",
    "fe80::1%eth0",
    "100.64.0.1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "2001:db8::1",
    "::7f00:1",  # IPv4-compatible 127.0.0.1
]
LOCAL = [
    "127.0.0.1",
    "127.255.0.9",
    "::1",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 form of 10.0.0.1
    "2002:c0a8:101::1",  # 6to4 form of 192.168.1.1
]
PUBLIC_IPS = ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("ip", REFUSED_ALWAYS + LOCAL)
def test_non_public_addresses_refused_by_default(ip: str) -> None:
    with pytest.raises(UrlNotAllowed) as info:
        check_url("http://images.example/a.png", PUBLIC, resolve=resolver(ip))
    assert ip.split("%")[0] not in info.value.message  # never name the internal address
    assert info.value.details == {"url": "http://images.example/a.png"}


@pytest.mark.parametrize("ip", REFUSED_ALWAYS)
def test_metadata_and_link_local_refused_even_with_allow_private(ip: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url("http://images.example/a.png", DEV, resolve=resolver(ip))


@pytest.mark.parametrize("ip", LOCAL)
def test_loopback_and_private_allowed_with_allow_private(ip: str) -> None:
    check_url("http://images.example/a.png", DEV, resolve=resolver(ip))


@pytest.mark.parametrize("ip", PUBLIC_IPS)
def test_public_addresses_allowed(ip: str) -> None:
    check_url("https://images.example/a.png", PUBLIC, resolve=resolver(ip))


def test_every_resolved_address_is_checked() -> None:
    with pytest.raises(UrlNotAllowed):
        check_url("http://images.example/", PUBLIC, resolve=resolver("8.8.8.8", "10.0.0.1"))


def test_hostname_resolving_to_private_refused_by_fetch() -> None:
    with pytest.raises(UrlNotAllowed) as info:
        fetch_url("http://images.example/a.png", PUBLIC, resolve=resolver("10.0.0.1"))
    assert "10.0.0.1" not in str(info.value)


def test_unresolvable_host_fails() -> None:
    def nxdomain(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(UrlFetchFailed):
        fetch_url("http://nope.example/", PUBLIC, resolve=nxdomain)


# --- URL rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/a.png",
        "gopher://127.0.0.1:6379/_INFO",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "//example.com/a.png",
        "http:///a.png",
        "not a url",
    ],
)
def test_non_http_urls_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url, DEV, resolve=resolver("8.8.8.8"))
    with pytest.raises(UrlNotAllowed):
        fetch_url(url, DEV, resolve=resolver("8.8.8.8"))


@pytest.mark.parametrize(
    "url",
    ["http://user:pw@images.example/a.png", "http://user@images.example/", "http://:@x.example/"],
)
def test_userinfo_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url, PUBLIC, resolve=resolver("8.8.8.8"))


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",  # 127.0.0.1 as one integer
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://127.1/",
        "http://0177.0.0.1/",  # octal: httpx refuses to parse it at all
        "http://2852039166/latest/meta-data/",  # 169.254.169.254
        "http://localhost/",
    ],
)
def test_ipv4_literal_tricks_refused_with_real_resolver(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        check_url(url, PUBLIC)
    with pytest.raises(UrlNotAllowed):
        fetch_url(url, PUBLIC)


def test_integer_metadata_literal_refused_even_with_allow_private() -> None:
    with pytest.raises(UrlNotAllowed):
        fetch_url("http://2852039166/latest/meta-data/", DEV)


@pytest.mark.parametrize(
    "url",
    [
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::1]/",
    ],
)
def test_ipv6_literals_refused_with_real_resolver(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        fetch_url(url, PUBLIC)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest/"]
)
def test_metadata_urls_refused_with_allow_private(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        fetch_url(url, DEV)


# --- fetching from the real server ---------------------------------------------------


def test_loopback_refused_by_default(base: str) -> None:
    with pytest.raises(UrlNotAllowed):
        fetch_url(f"{base}/ok", FetchPolicy())


def test_success_returns_bytes_and_content_type(base: str) -> None:
    got = fetch_url(f"{base}/ok", DEV)
    assert got.data == PNG
    assert got.content_type == "image/png"
    assert got.final_url == f"{base}/ok"


def test_connects_to_the_checked_address_and_keeps_the_host_name(base: str) -> None:
    # "images.example" does not exist in real DNS: this only works if the connection goes to
    # the address our resolver returned, and the Host header must still carry the name.
    port = base.rsplit(":", 1)[1]
    calls: list[str] = []
    got = fetch_url(
        f"http://images.example:{port}/host", DEV, resolve=resolver("127.0.0.1", calls=calls)
    )
    assert got.data == f"images.example:{port}".encode()
    assert calls == ["images.example"]  # one resolution, used for both check and connect


def test_dns_rebinding_second_answer_never_used(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])
    calls: list[str] = []

    def rebinding(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append(host)
        return resolver(*next(answers))(host, port)

    got = fetch_url(f"http://rebind.example:{port}/ok", DEV, resolve=rebinding)
    assert got.data == PNG
    assert calls == ["rebind.example"]


def test_https_sni_carries_the_host_name_not_the_pinned_address() -> None:
    # A TLS listener with no certificate: it records the SNI name from the ClientHello and
    # then fails the handshake, so the fetch fails, having told us which name was sent.
    names: list[str | None] = []
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)

    def record(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        names.append(name)

    ctx.sni_callback = record
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(5)
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn, contextlib.suppress(ssl.SSLError, OSError):
                ctx.wrap_socket(conn, server_side=True).close()

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with pytest.raises(UrlFetchFailed):
                fetch_url(
                    f"https://images.example:{port}/a.png", DEV, resolve=resolver("127.0.0.1")
                )
        finally:
            thread.join(timeout=5)
    assert names == ["images.example"]


def test_integer_literal_fetched_when_allowed(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    assert fetch_url(f"http://2130706433:{port}/ok", DEV).data == PNG


def test_http_404_fails(base: str) -> None:
    with pytest.raises(UrlFetchFailed) as info:
        fetch_url(f"{base}/notfound", DEV)
    assert info.value.details["http_status"] == 404


def test_connection_refused_fails() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(UrlFetchFailed):
        fetch_url(f"http://127.0.0.1:{port}/", DEV)


# --- redirects -----------------------------------------------------------------------


def test_relative_redirect_followed(base: str) -> None:
    got = fetch_url(f"{base}/redirect?to=/ok", DEV)
    assert got.data == PNG
    assert got.final_url == f"{base}/ok"


def test_max_redirects_followed(base: str) -> None:
    got = fetch_url(f"{base}/chain/2", FetchPolicy(allow_private=True, max_redirects=3))
    assert got.data == PNG


def test_too_many_redirects_fail(base: str) -> None:
    with pytest.raises(UrlFetchFailed):
        fetch_url(f"{base}/loop", FetchPolicy(allow_private=True, max_redirects=3))
    with pytest.raises(UrlFetchFailed):
        fetch_url(f"{base}/chain/3", FetchPolicy(allow_private=True, max_redirects=3))


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[fd00:ec2::254]/",
        "http://2852039166/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_FLUSHALL",
    ],
)
def test_redirect_to_disallowed_refused(base: str, location: str) -> None:
    url = f"{base}/redirect?to={location}"
    with pytest.raises(UrlNotAllowed) as info:
        fetch_url(url, DEV)
    assert "169.254" not in info.value.message
    assert info.value.details == {"url": url}


def test_redirect_with_credentials_refused(base: str) -> None:
    with pytest.raises(UrlNotAllowed):
        fetch_url(f"{base}/redirect?to=http://u:p@{base[7:]}/ok", DEV)


def test_redirect_to_hostname_resolving_to_metadata_refused(base: str) -> None:
    port = base.rsplit(":", 1)[1]

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        ip = "169.254.169.254" if host == "evil.example" else "127.0.0.1"
        return resolver(ip)(host, port)

    url = f"http://images.example:{port}/redirect?to=http://evil.example/"
    with pytest.raises(UrlNotAllowed):
        fetch_url(url, DEV, resolve=resolve)


# --- size and time limits ------------------------------------------------------------


def test_body_exactly_at_cap_allowed(base: str) -> None:
    got = fetch_url(f"{base}/exact", FetchPolicy(allow_private=True, max_bytes=1000))
    assert len(got.data) == 1000


def test_body_one_byte_over_cap_refused(base: str) -> None:
    with pytest.raises(InputTooLarge):
        fetch_url(f"{base}/exact", FetchPolicy(allow_private=True, max_bytes=999))


def test_declared_content_length_over_cap_refused_early(base: str) -> None:
    start = time.monotonic()
    with pytest.raises(InputTooLarge):
        fetch_url(f"{base}/big-declared", FetchPolicy(allow_private=True, max_bytes=1000))
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize("path", ["/big-chunked", "/big-close"])
def test_endless_body_without_content_length_stops_at_cap(base: str, path: str) -> None:
    start = time.monotonic()
    with pytest.raises(InputTooLarge):
        fetch_url(f"{base}{path}", FetchPolicy(allow_private=True, max_bytes=100_000))
    assert time.monotonic() - start < 2.0


def test_slow_server_times_out(base: str) -> None:
    start = time.monotonic()
    with pytest.raises(UrlFetchFailed):
        fetch_url(f"{base}/slow", FetchPolicy(allow_private=True, timeout_s=0.3))
    assert time.monotonic() - start < 1.5


def test_timeout_is_for_the_whole_fetch_not_each_read(base: str) -> None:
    # One byte every 50 ms never trips a per-read timeout; the total deadline must.
    start = time.monotonic()
    with pytest.raises(UrlFetchFailed):
        fetch_url(f"{base}/trickle", FetchPolicy(allow_private=True, timeout_s=0.4))
    assert time.monotonic() - start < 1.5


# --- caller-supplied client ----------------------------------------------------------


def test_caller_client_used_and_every_hop_still_checked() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/start":
            return httpx.Response(302, headers={"Location": "http://internal.example/x"})
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return resolver("10.1.2.3" if host == "internal.example" else "8.8.8.8")(host, port)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        got = fetch_url("https://cdn.example/img", PUBLIC, client=client, resolve=resolve)
        assert got.data == PNG
        assert got.content_type == "image/png"
        with pytest.raises(UrlNotAllowed):
            fetch_url("https://cdn.example/start", PUBLIC, client=client, resolve=resolve)
    assert seen == ["https://cdn.example/img", "https://cdn.example/start"]


def test_http_fetcher_port(base: str) -> None:
    fetcher = HttpFetcher(FetchPolicy(allow_private=True, timeout_s=3.0))
    fetcher.check(f"{base}/ok")
    assert fetcher.fetch(f"{base}/ok") == (PNG, "image/png")
    with pytest.raises(UrlNotAllowed):
        HttpFetcher().check(f"{base}/ok")

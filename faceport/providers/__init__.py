"""External providers: the hosted face-swap APIs (and other faceport deployments) a task
can be routed to, each an implementation of the backend port. One module per kind speaks
that API (the outbound twins of the dialects, contracts in shared/seeds/); `backend.py`
is what they share as a backend. FACEPORT_PROVIDERS names them, FACEPORT_ROUTES orders
them per operation (`faceport.workflow.candidates`)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from faceport.ports import Fetcher
from faceport.providers.ailabtools import AiLabTools
from faceport.providers.apiinone import ApiInOne
from faceport.providers.backend import ProviderBackend
from faceport.providers.base import Provider, ProviderHttp
from faceport.providers.faceport_api import FaceportApi
from faceport.providers.heygen import HeyGen
from faceport.providers.mjproxy import MjProxy
from faceport.providers.zhiqite import Zhiqite, key_headers
from faceport.settings import ProviderConfig, ProviderKind, Settings

_KINDS: dict[ProviderKind, Callable[[], Provider]] = {
    "apiinone": ApiInOne,
    "zhiqite": Zhiqite,
    "mjproxy": MjProxy,
    "heygen": HeyGen,
    "ailabtools": AiLabTools,
    "faceport": FaceportApi,
}

# A secret's name -> its value (Secrets Manager on AWS; the AWS runtime provides it).
SecretReader = Callable[[str], str]


def auth_headers(kind: ProviderKind, key: str) -> dict[str, str]:
    """The header(s) each API takes its key in (its seed page)."""
    if kind == "zhiqite":
        return key_headers(key)
    name = {"heygen": "X-Api-Key", "ailabtools": "ailabapi-api-key", "mjproxy": "mj-api-secret"}
    if kind in name:
        return {name[kind]: key}
    return {"Authorization": f"Bearer {key}"}


def _headers(config: ProviderConfig, read_secret: SecretReader | None) -> dict[str, str]:
    key = config.api_key or ""
    if config.api_key_secret is not None:
        if read_secret is None:
            raise ValueError("api_key_secret needs the AWS shape (Secrets Manager)")
        key = read_secret(config.api_key_secret)
    return auth_headers(config.kind, key)


def provider_backends(
    settings: Settings, fetcher: Fetcher, read_secret: SecretReader | None = None
) -> tuple[ProviderBackend, ...]:
    """A backend per entry of FACEPORT_PROVIDERS (none without it)."""
    backends = []
    for name, config in settings.providers.items():
        headers = functools.partial(_headers, config, read_secret)
        # One HTTP exchange never waits longer than the fetch timeout, except a
        # synchronous provider's, which is the whole work.
        per_call_s = (
            config.timeout_s
            if config.kind == "ailabtools"
            else min(settings.fetch_timeout_s, config.timeout_s)
        )
        http = ProviderHttp(config.base_url, headers, per_call_s)
        backends.append(
            ProviderBackend(
                name, config, _KINDS[config.kind](), http, fetcher=fetcher, settings=settings
            )
        )
    return tuple(backends)

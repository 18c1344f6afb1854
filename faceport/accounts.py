"""Accounts and API keys: the key format, how a request presents its key, and the records
the account store keeps. Pure: no I/O here (the stores are ports).

A key looks like `fpk_<16 id chars>_<40 secret chars>`. The part before the second `_` is
the key's id (shown in listings, used to look the key up); the whole key is stored only as
its SHA-256 and compared in constant time. The secret carries ~238 bits of randomness, so
a fast hash is enough (nothing to brute-force); a slow password hash would only cost every
request time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from faceport.errors import InvalidApiKey, MissingApiKey

KEY_PREFIX = "fpk_"
_ID_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits
_KEY = re.compile(r"^(fpk_[a-z0-9]{16})_([A-Za-z0-9]{40})$")


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key: the only time its secret exists outside the client."""

    key_id: str
    account_id: str
    secret: str = field(repr=False)

    @property
    def token(self) -> str:
        """The whole key, as clients send it."""
        return f"{self.key_id}_{self.secret}"


def new_api_key(account_id: str) -> IssuedKey:
    """A new random key for the account (word characters only: double-click selects it)."""
    key_id = KEY_PREFIX + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))
    return IssuedKey(key_id=key_id, account_id=account_id, secret=secret)


def new_account_id() -> str:
    return "acct_" + secrets.token_hex(8)


def hash_key(token: str) -> str:
    """What the store keeps instead of the key."""
    return hashlib.sha256(token.encode()).hexdigest()


def key_id_of(token: str) -> str | None:
    """The id inside a well-formed key, or None for anything else."""
    match = _KEY.match(token)
    return match.group(1) if match else None


def key_matches(token: str, stored_hash: str) -> bool:
    """Whether `token` is the key stored as `stored_hash`, in constant time."""
    return hmac.compare_digest(hash_key(token), stored_hash)


# Header styles of the APIs faceport speaks, in the order they are looked at.
API_KEY_HEADERS = ("x-api-key", "ailabapi-api-key", "mj-api-secret")
ACCESS_KEY_ID_HEADER = "x-request-req-accesskeyid"
ACCESS_KEY_SECRET_HEADER = "x-request-req-accesskeysecret"


def presented_key(headers: Mapping[str, str] | None) -> str:
    """The API key a request carries, in any of the header styles the seed APIs use:
    `Authorization: Bearer <key>`, `X-Api-Key`, `ailabapi-api-key`, `mj-api-secret`, or the
    pair `X-Request-req-accessKeyId: <key id>` + `X-Request-req-accessKeySecret: <secret or
    whole key>`. Header names are case-insensitive; the first style present wins.

    Raises `MissingApiKey` when none is present, `InvalidApiKey` for a half pair."""
    lower = {name.lower(): value.strip() for name, value in (headers or {}).items()}
    scheme, _, credentials = lower.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    for name in API_KEY_HEADERS:
        if lower.get(name):
            return lower[name]
    key_id, secret = lower.get(ACCESS_KEY_ID_HEADER), lower.get(ACCESS_KEY_SECRET_HEADER)
    if key_id or secret:
        if not (key_id and secret):
            raise InvalidApiKey("Send both X-Request-req-accessKeyId and -accessKeySecret.")
        whole = secret if secret.startswith(KEY_PREFIX) else f"{key_id}_{secret}"
        if key_id_of(whole) != key_id:
            raise InvalidApiKey()
        return whole
    raise MissingApiKey()


# --- records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    """Who a request acts for: the account, and the key it came with."""

    account_id: str
    key_id: str | None = None


class Account(BaseModel):
    """An account and its credits. `balance` is what it owns; `reserved` is held for
    unfinished tasks (0 <= reserved <= balance, always)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    balance: int
    reserved: int
    created_at: datetime

    @property
    def available(self) -> int:
        return self.balance - self.reserved


class ApiKeyRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    account_id: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class RateQuota:
    """Where a key stands against its request rate, for the `RateLimit-*` headers: `limit`
    requests, `remaining` of them now, all back after `reset_s` seconds."""

    limit: int
    remaining: int
    reset_s: int


class Usage(BaseModel):
    """Successful (charged) tasks of one operation."""

    model_config = ConfigDict(frozen=True)

    count: int = 0
    credits: int = 0


EntryKind = Literal["top_up", "reserve", "commit", "release"]


class LedgerEntry(BaseModel):
    """One movement of credits. (account, ref, kind) is unique: a task's reserve, commit and
    release (ref = task id) and a top-up (ref = its reference) each happen at most once.
    Replaying the deltas in order gives the account's balance and reserved credits."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    ref: str
    kind: EntryKind
    balance_delta: int
    reserved_delta: int
    operation: str | None = None
    at: datetime


@dataclass(frozen=True)
class Hold:
    """A reservation: `amount` credits held for task `task_id` until it ends."""

    account_id: str
    task_id: str
    operation: str
    amount: int
    key_id: str | None = None


@dataclass(frozen=True)
class IdempotencyClaim:
    """An `Idempotency-Key` and the fingerprint of the request body it came with."""

    key: str
    fingerprint: str
    ttl_s: int

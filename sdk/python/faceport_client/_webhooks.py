"""Verify webhook deliveries by the Standard Webhooks spec (HMAC-SHA256 over
`id.timestamp.body`), with no dependency beyond the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

from faceport_client._errors import WebhookVerificationError
from faceport_client._models import WebhookEvent

TOLERANCE_S = 5 * 60


def verify_signature(
    body: bytes | str,
    headers: Mapping[str, str],
    secrets: Iterable[str],
    *,
    now: float | None = None,
) -> WebhookEvent:
    """The event, if `headers` carry a valid signature of `body` by any of `secrets`
    (`whsec_...`) and a timestamp within five minutes; else `WebhookVerificationError`."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    timestamp = lower.get("webhook-timestamp")
    signatures = lower.get("webhook-signature")
    if not (msg_id and timestamp and signatures):
        raise WebhookVerificationError("missing_headers", "No webhook-id/-timestamp/-signature.")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise WebhookVerificationError(
            "bad_timestamp", "webhook-timestamp is not a number."
        ) from None
    if abs((now if now is not None else time.time()) - sent_at) > TOLERANCE_S:
        raise WebhookVerificationError("stale_timestamp", "The delivery is over 5 minutes old.")
    raw = body.encode() if isinstance(body, str) else body
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + raw
    given = [s.split(",", 1)[1] for s in signatures.split() if s.startswith("v1,")]
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        if any(hmac.compare_digest(expected, sig) for sig in given):
            return WebhookEvent.model_validate_json(raw)
    raise WebhookVerificationError("bad_signature", "No signature matches a signing secret.")

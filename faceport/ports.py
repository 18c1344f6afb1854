"""The ports: what the core needs from the outside world, and nothing about how.

Local adapters (SQLite, files, threads) and AWS adapters (DynamoDB, S3, Step Functions)
implement these; the core and the handlers only ever see the protocols.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from faceport.accounts import (
    Account,
    ApiKeyRecord,
    Hold,
    IdempotencyClaim,
    IssuedKey,
    LedgerEntry,
    RateQuota,
    Usage,
)
from faceport.tasks import OutputFormat, TargetSelection, Task, TaskStatus
from faceport.webhooks import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    QueuedTry,
    SigningSecret,
    WebhookEvent,
)


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    next_cursor: str | None


class TaskStore(Protocol):
    def create(self, task: Task) -> None:
        """Persist a new task; it exists before anyone is told about it."""

    def get(self, task_id: str) -> Task | None: ...

    def list(
        self, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
    ) -> TaskPage:
        """Tasks of one account, newest first."""

    def update_if(
        self, task_id: str, expected: Collection[TaskStatus], **changes: Any
    ) -> Task | None:
        """Apply `changes` only if the task's status is one of `expected` (a conditional
        write: of two writers racing, one wins). Returns the new task, or None if the
        condition failed."""

    def wait_until_done(self, task_id: str, timeout_s: float) -> Task | None:
        """Block until the task is terminal or the timeout passes; return it as it is then."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the file at `path` under `key` (large blobs never pass through memory)."""

    def get_file(self, key: str, path: Path) -> None:
        """Write the blob under `key` to the file `path`."""

    def url_for(self, key: str, ttl_s: int) -> str:
        """A download URL for the blob that stops working after `ttl_s` seconds."""


class Orchestrator(Protocol):
    def start(self, task: Task) -> None:
        """Make sure the task's workflow will run (idempotent for the same task)."""

    def cancel(self, task_id: str) -> None:
        """Stop the task's workflow as soon as possible (its status is already `canceled`)."""


class Engine(Protocol):
    """The face work. Every method raises a `FaceportError` (e.g. `NoFaceInSource`) when the
    inputs cannot be worked on."""

    def swap_face(
        self,
        source: bytes,
        target: bytes,
        *,
        target_index: TargetSelection,
        face_map: list[tuple[int, int]] | None,
        output_format: OutputFormat,
        enhance: bool = False,
    ) -> bytes: ...

    def fuse_faces(
        self, donor: bytes, template: bytes, *, similarity: float, output_format: OutputFormat
    ) -> bytes: ...

    def detect_faces(self, image: bytes) -> list[dict[str, Any]]:
        """Every face, largest first: `index`, `box`, `score`, `landmarks` (JSON-ready)."""

    def swap_face_video(
        self,
        source: bytes,
        video: Path,
        output: Path,
        *,
        target_index: int | Literal["all"],
        reference_face: bytes | None,
        progress: Callable[[float], None],
        should_stop: Callable[[], bool],
        enhance: bool = False,
    ) -> dict[str, Any]:
        """Swap the source's face into the video file, writing an MP4 to `output`.

        `progress(fraction)` is called as frames are done; when `should_stop()` turns True
        the work stops within a second and raises `TaskCanceled`, leaving no output file.
        Returns a JSON-ready report (frames, swapped frames, seconds).
        """


class Fetcher(Protocol):
    def check(self, url: str) -> None:
        """Raise `UrlNotAllowed` unless the URL may be fetched."""

    def fetch(self, url: str, *, max_bytes: int | None = None) -> tuple[bytes, str | None]:
        """Return the body and the content type the server claimed; `max_bytes` replaces
        the fetcher's own byte cap (videos are allowed more than images)."""


class WebhookOutbox(Protocol):
    """Where webhook events wait for delivery and where their tries are recorded.

    Locally a task's final event enters the outbox in the same SQLite transaction as the
    task's final state; on AWS it is enqueued just after that write (SQS + DynamoDB).
    """

    def enqueue(self, event: WebhookEvent) -> Delivery:
        """Make the event due now. For an event id already known this is a redelivery: the
        payload is replaced, a new series of tries starts, and the history is kept."""

    def deliveries(self, task_id: str) -> list[Delivery]:
        """Every event of the task with its tries, oldest first."""

    def get(self, task_id: str, event_id: str) -> Delivery | None:
        """One delivery as it stands (without its history)."""

    def record(
        self,
        delivery: Delivery,
        attempt: DeliveryAttempt,
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
    ) -> Delivery | None:
        """Store one try and what follows from it, if nobody recorded a try of `delivery`
        since it was read (a conditional write); else None and nothing changes."""


class WebhookQueue(Protocol):
    """AWS: the queue whose messages time the tries (the local sender polls SQLite)."""

    def send(self, queued: QueuedTry, delay_s: float) -> None:
        """Deliver `queued` to the sender after `delay_s` (at most the queue's own cap; the
        sender puts a message that arrives early back)."""


@dataclass(frozen=True)
class SecretSet:
    """An account's signing secrets and the version a conditional write expects."""

    version: int
    secrets: list[SigningSecret]


class SigningSecretStore(Protocol):
    def load(self, account_id: str) -> SecretSet:
        """The account's secrets (version 0 and none if it has never had one)."""

    def save(self, account_id: str, secrets: list[SigningSecret], expected_version: int) -> bool:
        """Replace the secrets if the stored version is still `expected_version`."""


class AccountStore(Protocol):
    """Accounts and their API keys (only key hashes are stored)."""

    def create_account(self, name: str) -> Account:
        """A new account with no credits (top it up through the `Ledger`)."""

    def get_account(self, account_id: str) -> Account | None: ...

    def issue_key(self, account_id: str) -> IssuedKey:
        """A new key for the account; raises `AccountNotFound`. The secret is not kept."""

    def find_key(self, key_id: str) -> ApiKeyRecord | None: ...

    def revoke_key(self, key_id: str) -> ApiKeyRecord:
        """Revoke the key (again: no change); raises `NotFound` for an unknown key."""


class Ledger(Protocol):
    """Credits. Every change is a ledger entry written once, with the balance change, in
    one transaction; 0 <= reserved <= balance holds after every one of them."""

    def reserve(
        self, hold: Hold, *, idempotency: IdempotencyClaim | None = None, max_active: int = 0
    ) -> str:
        """Hold `hold.amount` credits for a new task and return `hold.task_id`.

        With `idempotency`, the key is claimed in the same transaction: if this account used
        it before (and it has not expired), nothing is held and the earlier task's id is
        returned, or `IdempotencyKeyReused` raised when the fingerprint differs. A second
        reserve for the same task holds nothing. Raises `InsufficientCredits` when the
        available credits are short, and, when `max_active` > 0, `TooManyConcurrentTasks`
        if the key already has that many unsettled holds, `RevokedApiKey` if it is revoked.
        """

    def commit(self, account_id: str, task_id: str, amount: int) -> bool:
        """Charge `amount` (at most the amount held) and free the hold. False (and no
        change) if there is no open hold for the task: already settled, or never held."""

    def release(self, account_id: str, task_id: str) -> bool:
        """Free the hold without charging. False (and no change) if there is no open hold."""

    def abandon(self, account_id: str, task_id: str) -> None:
        """Release the hold of a task that was never written, and forget the idempotency
        key it claimed, so that a retry with that key starts afresh."""

    def top_up(self, account_id: str, credits: int, reference: str) -> bool:
        """Add credits; once per `reference` (False and no change on a repeat). Raises
        `AccountNotFound`."""

    def open_reservations(self, older_than_s: float) -> list[Hold]:
        """Holds not yet committed or released, made more than `older_than_s` ago."""

    def usage(self, account_id: str) -> dict[str, Usage]:
        """Charged tasks and credits by operation."""

    def entries(self, account_id: str, limit: int = 1000) -> list[LedgerEntry]:
        """The account's ledger, oldest first (the last `limit` entries)."""


class Accounts(AccountStore, Ledger, Protocol):
    """Both, as one store keeps them (one SQLite file locally, one DynamoDB table on AWS)."""


class RateLimiter(Protocol):
    def acquire(self, key_id: str) -> RateQuota:
        """Count one request of the key and say what is left; raise `RateLimited` (with a
        retry delay and the quota) over the limit."""

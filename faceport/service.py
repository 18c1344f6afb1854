"""What the API does, independent of HTTP and of any wire format: submit, look up, list
and cancel tasks. It takes and returns domain objects (`Submission`, `Task`, `Account`);
each route group renders them in its own dialect."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from faceport import billing
from faceport.accounts import Account, Caller, Hold, IdempotencyClaim, Usage
from faceport.backends import Backend
from faceport.errors import (
    AccountNotFound,
    IdempotencyKeyInProgress,
    InsufficientCredits,
    InvalidBase64,
    InvalidIdempotencyKey,
    NotFound,
    NotifyUrlNotAllowed,
    TaskNotCancelable,
    UnsupportedMedia,
    UrlFetchFailed,
    UrlNotAllowed,
)
from faceport.inputs import GivenInput, decode_inline, drop_inputs, store_input
from faceport.media import declared_video_seconds
from faceport.operations import spec_of
from faceport.ports import (
    AccountStore,
    BlobStore,
    Fetcher,
    Ledger,
    Orchestrator,
    RateLimiter,
    SigningSecretStore,
    TaskPage,
    TaskStore,
    WebhookOutbox,
)
from faceport.settings import Settings
from faceport.tasks import (
    ACTIVE,
    InputRef,
    Operation,
    Task,
    TaskParams,
    TaskStatus,
    new_task_id,
    utcnow,
)
from faceport.workflow import callback_is_genuine, cancel_at_provider, route

# A task as its dialect renders it (status answers, webhook event data); the route groups
# provide it (faceport.api.groups), so the core knows no wire format.
TaskRenderer = Callable[["Queries", Task], dict[str, Any]]


@dataclass(frozen=True)
class Queries:
    """The ports a task query needs (the status Lambda's whole wiring): read tasks, sign
    result links, read accounts and deliveries, count the key's requests."""

    settings: Settings
    tasks: TaskStore
    blobs: BlobStore
    webhooks: WebhookOutbox
    accounts: AccountStore
    ledger: Ledger
    rate_limiter: RateLimiter
    render_task: TaskRenderer
    # Whether a dialect's webhook body is its task view itself (faceport.api.groups).
    bare_events: Callable[[str], bool]


@dataclass(frozen=True)
class Services(Queries):
    """The ports the API needs to create work too, wired once per process (no engine here,
    on purpose)."""

    orchestrator: Orchestrator
    fetcher: Fetcher
    signing_secrets: SigningSecretStore
    # The backends this deployment runs tasks on (only their kinds matter here: see
    # `submit`); the workflow holds the same ones.
    backends: tuple[Backend, ...]


@dataclass(frozen=True)
class Submission:
    """A task to submit, as a route group made it from its request."""

    operation: Operation
    params: TaskParams
    inputs: Mapping[str, GivenInput]
    # What the client asked, as JSON: the fingerprint an `Idempotency-Key` is bound to.
    asked: Mapping[str, Any]
    metadata: dict[str, Any] | None = None
    notify_url: str | None = None
    dialect: str = "native"


def submit(
    svc: Services, caller: Caller, submission: Submission, *, idempotency_key: str | None = None
) -> Task:
    """Check the inputs, reserve the price, store the task, start its workflow. Bad input,
    or an operation no backend of this deployment runs, raises a 4xx error before anything
    is stored or held. With an `idempotency_key` (the `Idempotency-Key` header, or a
    dialect's business id), a repeat of the same request returns the first task and holds
    nothing more. An inline MP4/MOV is held for the length its header declares; any other
    video for the longest accepted until the workflow's prepare step probes it."""
    operation = submission.operation
    route(svc.backends, operation, svc.settings.routes)
    if submission.notify_url is not None:
        _check_notify_url(svc, submission.notify_url)
    claim = _idempotency_claim(svc, operation, submission.asked, idempotency_key)
    task_id = new_task_id()
    inputs, seconds = _accept_inputs(svc, task_id, submission)
    price = billing.price_of(svc.settings, operation, video_seconds=seconds)
    hold = Hold(caller.account_id, task_id, operation, price, caller.key_id)
    try:
        owner = svc.ledger.reserve(
            hold, idempotency=claim, max_active=svc.settings.max_active_tasks_per_key
        )
    except InsufficientCredits as exc:
        drop_inputs(svc.blobs, inputs)
        reason = billing.hold_reason(svc.settings, operation, price, seconds)
        raise InsufficientCredits(f"{reason} {exc.message}", **exc.details) from None
    except BaseException:
        drop_inputs(svc.blobs, inputs)
        raise
    if owner != task_id:
        drop_inputs(svc.blobs, inputs)
        return _replayed(svc, caller.account_id, owner)
    task = Task(
        id=task_id,
        account_id=caller.account_id,
        operation=operation,
        dialect=submission.dialect,
        params=submission.params,
        inputs=inputs,
        metadata=submission.metadata,
        notify_url=submission.notify_url,
        created_at=utcnow(),
        price=price,
    )
    try:
        svc.tasks.create(task)
    except BaseException:
        svc.ledger.abandon(caller.account_id, task_id)
        drop_inputs(svc.blobs, inputs)  # a refused task leaves nothing behind
        raise
    svc.orchestrator.start(task)
    return task


_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def _idempotency_claim(
    svc: Services, operation: str, asked: Mapping[str, Any], key: str | None
) -> IdempotencyClaim | None:
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidIdempotencyKey()
    fingerprint = billing.fingerprint(operation, dict(asked))
    return IdempotencyClaim(key=key, fingerprint=fingerprint, ttl_s=svc.settings.idempotency_ttl_s)


def _replayed(svc: Services, account_id: str, task_id: str, wait_s: float = 5.0) -> Task:
    """The task an earlier request with the same key made; it may be a moment from being
    written when the two requests raced."""
    deadline = time.monotonic() + wait_s
    while (task := svc.tasks.get(task_id)) is None:
        if time.monotonic() > deadline:
            raise IdempotencyKeyInProgress()
        time.sleep(0.02)
    if task.account_id != account_id:  # keys are per account; never show another's task
        raise NotFound(f"No task {task_id!r}.")
    return task


def _accept_inputs(
    svc: Services, task_id: str, submission: Submission
) -> tuple[dict[str, InputRef], float | None]:
    """URL inputs are checked against the SSRF rules (the fetch checks again); inline ones
    are decoded, checked and stored now. On a bad one, those already stored are dropped.
    Also returns an inline video's declared length (None when it cannot be read now)."""
    spec = spec_of(submission.operation)
    inputs: dict[str, InputRef] = {}
    seconds: float | None = None
    try:
        for name, given in submission.inputs.items():
            if given.url is not None:
                svc.fetcher.check(given.url)  # refuse early; the fetch itself checks again
                inputs[name] = InputRef(url=given.url)
                continue
            kind = spec.input_kind(name)
            try:
                data = decode_inline(given, kind, svc.settings)
                key = store_input(svc.blobs, svc.settings, task_id, name, kind, data)
            except (InvalidBase64, UnsupportedMedia) as exc:  # say which input
                raise type(exc)(f"{name}: {exc.message}", **exc.details) from None
            inputs[name] = InputRef(blob=key)
            if kind == "video":
                seconds = declared_video_seconds(data)
    except BaseException:
        drop_inputs(svc.blobs, inputs)
        raise
    return inputs, seconds


def _check_notify_url(svc: Services, url: str) -> None:
    """The SSRF rules of input URLs; the sender checks again at every send (DNS changes)."""
    try:
        svc.fetcher.check(url)
    except (UrlNotAllowed, UrlFetchFailed) as exc:
        raise NotifyUrlNotAllowed(f"notify_url: {exc.message}", url=url) from exc


def get_task(svc: Queries, account_id: str, task_id: str) -> Task:
    """The task, if it exists and belongs to the account (404 either way, never 403)."""
    task = svc.tasks.get(task_id)
    if task is None or task.account_id != account_id:
        raise NotFound(f"No task {task_id!r}.")
    return task


def wait_for_task(svc: Queries, task: Task, wait_s: float) -> Task:
    """The task once it ends, or as it is after `wait_s` seconds."""
    return svc.tasks.wait_until_done(task.id, wait_s) or task


def list_tasks(
    svc: Queries, account_id: str, *, status: TaskStatus | None, limit: int, cursor: str | None
) -> TaskPage:
    """A page of the account's tasks, newest first."""
    return svc.tasks.list(account_id, status=status, limit=limit, cursor=cursor)


def cancel_task(svc: Services, account_id: str, task_id: str) -> Task:
    """Cancel a queued or running task; a task that already ended is a 409."""
    get_task(svc, account_id, task_id)
    canceled = svc.tasks.update_if(
        task_id, ACTIVE, status=TaskStatus.CANCELED, finished_at=utcnow()
    )
    if canceled is None:
        raise TaskNotCancelable()
    billing.settle(svc.ledger, canceled)
    svc.orchestrator.cancel(task_id)
    cancel_at_provider(svc.backends, canceled)
    return canceled


def provider_callback(svc: Services, task_id: str, token: str) -> None:
    """A provider says the task's work moved on: with the task's own token, look at it
    now (the callback's body is not trusted: the task is read back from the provider).
    A wrong token or task is a 404, whatever exists."""
    if not callback_is_genuine(svc.tasks.get(task_id), token):
        raise NotFound("No such callback.")
    svc.orchestrator.resume(task_id)


def get_account(svc: Queries, caller: Caller) -> tuple[Account, dict[str, Usage]]:
    """The caller's account (credits) and what its credits were spent on."""
    account = svc.accounts.get_account(caller.account_id)
    if account is None:
        raise AccountNotFound()
    return account, svc.ledger.usage(account.id)

"""The Ledger and AccountStore contract, on SQLite and on DynamoDB (moto)."""

from __future__ import annotations

from typing import Any

import pytest

from faceport.accounts import Account, Hold, IdempotencyClaim
from faceport.errors import (
    AccountNotFound,
    IdempotencyKeyReused,
    InsufficientCredits,
    NotFound,
    RevokedApiKey,
    TooManyConcurrentTasks,
)


def funded(store: Any, credits: int) -> Account:
    account: Account = store.create_account("ledger")
    store.top_up(account.id, credits, "initial")
    return account


def totals(store: Any, account_id: str) -> tuple[int, int]:
    account = store.get_account(account_id)
    return account.balance, account.reserved


def hold(account: Account, task_id: str, amount: int = 4, key_id: str | None = None) -> Hold:
    return Hold(account.id, task_id, "face_swap", amount, key_id)


def test_reserve_then_commit_or_release(store: Any) -> None:
    account = funded(store, 10)
    assert store.reserve(hold(account, "task_a")) == "task_a"
    assert store.reserve(hold(account, "task_b")) == "task_b"
    assert totals(store, account.id) == (10, 8)
    assert store.commit(account.id, "task_a", 4) is True
    assert store.release(account.id, "task_b") is True
    assert totals(store, account.id) == (6, 0)
    assert store.usage(account.id)["face_swap"].model_dump() == {"count": 1, "credits": 4}


def test_duplicate_and_crossed_settlements_change_nothing(store: Any) -> None:
    account = funded(store, 10)
    store.reserve(hold(account, "task_ok"))
    store.reserve(hold(account, "task_bad"))
    assert store.commit(account.id, "task_ok", 4) is True
    assert store.release(account.id, "task_bad") is True
    settled = totals(store, account.id)
    assert store.commit(account.id, "task_ok", 4) is False
    assert store.release(account.id, "task_ok") is False
    assert store.commit(account.id, "task_bad", 4) is False
    assert store.release(account.id, "task_bad") is False
    assert store.commit(account.id, "task_never_held", 4) is False
    assert store.reserve(hold(account, "task_ok")) == "task_ok"  # a re-sent reserve
    assert totals(store, account.id) == settled == (6, 0)
    kinds = [(e.ref, e.kind) for e in store.entries(account.id)]
    assert len(kinds) == len(set(kinds)) == 5  # top-up, 2 reserves, commit, release


def test_a_commit_charges_at_most_what_was_held(store: Any) -> None:
    account = funded(store, 100)
    store.reserve(hold(account, "task_video", amount=60))
    assert store.commit(account.id, "task_video", 14) is True  # the real duration was shorter
    assert totals(store, account.id) == (86, 0)
    store.reserve(hold(account, "task_over", amount=10))
    store.commit(account.id, "task_over", 25)
    assert totals(store, account.id) == (76, 0)


def test_a_reserve_beyond_the_available_credits_holds_nothing(store: Any) -> None:
    account = funded(store, 7)
    store.reserve(hold(account, "task_a"))
    with pytest.raises(InsufficientCredits) as refused:
        store.reserve(hold(account, "task_b"))
    assert refused.value.details == {"price": 4, "available": 3}
    assert totals(store, account.id) == (7, 4)
    assert [e.kind for e in store.entries(account.id)] == ["top_up", "reserve"]


def test_top_up_once_per_reference(store: Any) -> None:
    account = funded(store, 5)
    assert store.top_up(account.id, 10, "invoice-1") is True
    assert store.top_up(account.id, 10, "invoice-1") is False
    assert totals(store, account.id) == (15, 0)
    with pytest.raises(AccountNotFound):
        store.top_up("acct_nobody", 10, "invoice-2")


def test_idempotency_key_claims_once_per_body(store: Any) -> None:
    account = funded(store, 100)
    claim = IdempotencyClaim(key="order-17", fingerprint="f1", ttl_s=3600)
    assert store.reserve(hold(account, "task_first"), idempotency=claim) == "task_first"
    assert store.reserve(hold(account, "task_again"), idempotency=claim) == "task_first"
    assert totals(store, account.id) == (100, 4)
    other_body = IdempotencyClaim(key="order-17", fingerprint="f2", ttl_s=3600)
    with pytest.raises(IdempotencyKeyReused):
        store.reserve(hold(account, "task_other"), idempotency=other_body)
    # another account may use the same key
    second = funded(store, 10)
    assert store.reserve(hold(second, "task_theirs"), idempotency=claim) == "task_theirs"
    # a hold whose task was never written is abandoned: the key is free again
    store.abandon(account.id, "task_first")
    assert totals(store, account.id) == (100, 0)
    assert store.reserve(hold(account, "task_retry"), idempotency=claim) == "task_retry"


def test_per_key_limit_of_unsettled_holds_and_revoked_keys(store: Any) -> None:
    account = funded(store, 100)
    key = store.issue_key(account.id)
    for n in range(2):
        store.reserve(hold(account, f"task_{n}", key_id=key.key_id), max_active=2)
    with pytest.raises(TooManyConcurrentTasks):
        store.reserve(hold(account, "task_2", key_id=key.key_id), max_active=2)
    store.commit(account.id, "task_0", 4)
    store.reserve(hold(account, "task_3", key_id=key.key_id), max_active=2)
    store.revoke_key(key.key_id)
    store.release(account.id, "task_1")
    with pytest.raises(RevokedApiKey):
        store.reserve(hold(account, "task_4", key_id=key.key_id), max_active=2)
    assert totals(store, account.id) == (96, 4)


def test_keys_are_stored_as_hashes_and_revoked_once(store: Any) -> None:
    account = funded(store, 0)
    key = store.issue_key(account.id)
    record = store.find_key(key.key_id)
    assert record.account_id == account.id and record.revoked_at is None
    assert key.secret not in record.secret_hash and len(record.secret_hash) == 64
    first = store.revoke_key(key.key_id).revoked_at
    assert first is not None and store.revoke_key(key.key_id).revoked_at == first
    with pytest.raises(NotFound):
        store.revoke_key("fpk_0000000000000000")
    with pytest.raises(AccountNotFound):
        store.issue_key("acct_nobody")


def test_open_reservations_are_the_unsettled_holds(store: Any) -> None:
    account = funded(store, 100)
    for name in ("task_a", "task_b", "task_c"):
        store.reserve(hold(account, name))
    store.commit(account.id, "task_b", 4)
    open_ids = sorted(h.task_id for h in store.open_reservations(0))
    assert open_ids == ["task_a", "task_c"]
    assert store.open_reservations(3600) == []


def test_replaying_the_ledger_gives_the_account_totals(store: Any) -> None:
    account = funded(store, 50)
    for n in range(6):
        store.reserve(hold(account, f"task_{n}", amount=n + 1))
    for n in range(6):
        if n % 2:
            store.commit(account.id, f"task_{n}", n + 1)
        elif n:
            store.release(account.id, f"task_{n}")
    entries = store.entries(account.id)
    replayed = (sum(e.balance_delta for e in entries), sum(e.reserved_delta for e in entries))
    assert replayed == totals(store, account.id) == (50 - 2 - 4 - 6, 1)

"""`faceport admin ...`: accounts, keys and credits for operators, against the local store
(`--data-dir`) or a deployed stack (`--stack NAME`, or `--accounts-table` and
`--idempotency-table`). Every command prints JSON, except `ledger`, a table by default."""

from __future__ import annotations

import argparse
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from faceport.accounts import LedgerEntry
from faceport.auth import authenticate
from faceport.errors import AccountNotFound, Unauthenticated, ValidationFailed
from faceport.ports import Accounts

DEV_KEY_FILE = "dev-api-key"


_WHERE = ("data_dir", "stack", "accounts_table")


def _where_options(defaults: Any) -> argparse.ArgumentParser:
    """Which store (before or after the action: `cli_args.command_group`)."""
    where = argparse.ArgumentParser(add_help=False, argument_default=defaults)
    where.add_argument("--data-dir", type=Path, help="local store (default .data)")
    where.add_argument("--stack", help="deployed stack: its AccountsTableName output")
    where.add_argument("--accounts-table", help="deployed accounts table (DynamoDB)")
    where.add_argument("--idempotency-table", help="deployed idempotency table (DynamoDB)")
    return where


def add_admin_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `admin` command and its subcommands, on the `faceport` parser."""
    from faceport.cli_args import command_group

    help_text = "accounts, API keys and credits (operators)"
    action = command_group(commands, "admin", help_text, __doc__, common, _where_options)

    create = action("create-account", "new account; prints its first key")
    create.add_argument("name", help="a name for the account (need not be unique)")
    create.add_argument("--credits", type=_credits, default=0, help="credits to start with")
    issue = action("issue-key", "another key for ACCOUNT (printed once)")
    issue.add_argument("account", help="account id (acct_...)")
    revoke = action("revoke-key", "revoke a key by its id (fpk_...)")
    revoke.add_argument("key_id", help="the key's id: its first 20 characters")
    top_up = action("top-up", "add credits to ACCOUNT")
    top_up.add_argument("account", help="account id (acct_...)")
    top_up.add_argument("credits", type=_credits, help="how many credits to add")
    top_up.add_argument(
        "--reference", help="once per reference (e.g. an invoice id): repeats add nothing"
    )
    balance = action("balance", "credits and usage of ACCOUNT")
    balance.add_argument("account", help="account id (acct_...)")
    ledger = action("ledger", "ACCOUNT's ledger with running totals")
    ledger.add_argument("account", help="account id (acct_...)")
    ledger.add_argument("--limit", type=int, default=1000, help="the last N entries")
    ledger.add_argument("--json", action="store_true", help="one JSON object per line")


def _credits(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("a whole number of credits") from None
    if value < 0:
        raise argparse.ArgumentTypeError("credits cannot be negative")
    return value


def open_store(args: argparse.Namespace) -> Accounts:
    """The store the flags select: DynamoDB for a deployed stack, else SQLite."""
    given = [f"--{name.replace('_', '-')}" for name in _WHERE if getattr(args, name, None)]
    if len(given) > 1:
        raise ValidationFailed(f"Give one of --data-dir, --stack, --accounts-table, not {given}.")
    if args.stack or args.accounts_table:
        from faceport.adapters.aws.clients import AwsClients
        from faceport.adapters.aws.dynamo_accounts import DynamoAccounts, tables_of_stack
        from faceport.adapters.aws.setup_errors import aws_errors_explained

        with aws_errors_explained():
            clients = AwsClients()
            table, idempotency = args.accounts_table, args.idempotency_table
            if args.stack:
                table, found = tables_of_stack(args.stack, clients)
                idempotency = idempotency or found
            return DynamoAccounts(table, idempotency, clients)
    from faceport.adapters.local.sqlite_accounts import SqliteAccounts
    from faceport.settings import Settings

    data_dir = args.data_dir or Settings().data_dir
    return SqliteAccounts(data_dir / "faceport.sqlite3")


def run_admin(args: argparse.Namespace, store: Accounts | None = None) -> int:
    """Run one admin command; errors are `FaceportError`s (the CLI prints them)."""
    store = store or open_store(args)
    if args.stack or args.accounts_table:
        from faceport.adapters.aws.setup_errors import aws_errors_explained

        with aws_errors_explained():
            return _run_action(args, store)
    return _run_action(args, store)


def _run_action(args: argparse.Namespace, store: Accounts) -> int:
    if args.action == "create-account":
        account = store.create_account(args.name)
        if args.credits:
            store.top_up(account.id, args.credits, "initial")
        key = store.issue_key(account.id)
        _print(
            {"account_id": account.id, "name": account.name, "credits": args.credits}
            | {"key_id": key.key_id, "api_key": key.token, "note": "the key is shown only once"}
        )
    elif args.action == "issue-key":
        key = store.issue_key(args.account)
        _print({"account_id": args.account, "key_id": key.key_id, "api_key": key.token})
    elif args.action == "revoke-key":
        record = store.revoke_key(args.key_id)
        revoked_at = record.revoked_at.isoformat() if record.revoked_at else None
        _print({"key_id": record.id, "account_id": record.account_id, "revoked_at": revoked_at})
    elif args.action == "top-up":
        reference = args.reference or f"topup_{int(time.time() * 1000):012x}{secrets.token_hex(4)}"
        added = store.top_up(args.account, args.credits, reference)
        _print({"account_id": args.account, "reference": reference, "added": added})
    elif args.action == "balance":
        _print(_balance(store, args.account))
    else:
        _balance(store, args.account)  # an unknown account is an error, not an empty table
        _print_ledger(store.entries(args.account, args.limit), as_json=args.json)
    return 0


def _balance(store: Accounts, account_id: str) -> dict[str, Any]:
    account = store.get_account(account_id)
    if account is None:
        raise AccountNotFound(f"No account {account_id!r}.")
    usage = {op: u.model_dump() for op, u in store.usage(account_id).items()}
    return account.model_dump(mode="json") | {"available": account.available, "usage": usage}


def _print(value: dict[str, Any]) -> None:
    print(json.dumps(value, indent=2))


def _print_ledger(entries: list[LedgerEntry], *, as_json: bool) -> None:
    """Entries with the running balance and reserved credits after each (if the listing
    starts at the account's first entry, the last row equals the account's totals)."""
    balance = reserved = 0
    rows = []
    for entry in entries:
        balance += entry.balance_delta
        reserved += entry.reserved_delta
        rows.append(
            {
                "at": entry.at.isoformat(timespec="milliseconds"),
                "ref": entry.ref,
                "kind": entry.kind,
                "operation": entry.operation or "",
                "balance_delta": entry.balance_delta,
                "reserved_delta": entry.reserved_delta,
                "balance": balance,
                "reserved": reserved,
            }
        )
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    columns = ["at", "ref", "kind", "operation", "balance_delta", "reserved_delta"]
    columns += ["balance", "reserved"]
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip())


def ensure_dev_key(store: Accounts, data_dir: Path, credits: int) -> str:
    """The development account's key, kept in `<data dir>/dev-api-key` (mode 600) so that
    the README's curl can read it; made, with `credits`, on the first run."""
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        token = path.read_text().strip()
        try:
            authenticate({"Authorization": f"Bearer {token}"}, store)
            return token
        except Unauthenticated:
            pass  # a stale file (the store was wiped, or the key revoked): make a new one
    account = store.create_account("dev")
    store.top_up(account.id, credits, "initial")
    token = store.issue_key(account.id).token
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.replace(partial, path)
    return token

"""`faceport remote ...`: a running faceport server through the Python SDK
(`faceport_client`), with a progress bar on stderr while a task runs and `--json` for
scripts. The server and key: `--api-url`/`--api-key`, else FACEPORT_API_URL/
FACEPORT_API_KEY. Errors follow the local CLI's rule: one line, exit 2."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from faceport.cli_args import (
    FORMATS,
    UsageError,
    command_group,
    face_map,
    output_format_for,
    similarity,
    target_selection,
    video_selection,
)

_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")


def _connection(default: Any) -> argparse.ArgumentParser:
    """The server, the key, --json (before or after the action: `cli_args.command_group`)."""
    options = argparse.ArgumentParser(add_help=False, argument_default=default)
    options.add_argument("--api-url", help="the server (default: $FACEPORT_API_URL)")
    options.add_argument("--api-key", help="your API key (default: $FACEPORT_API_KEY)")
    options.add_argument("--json", action="store_true", help="print JSON only, no progress")
    return options


def add_remote_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """The `remote` command and its actions, on the `faceport` parser."""
    help_text = "call a running faceport server (swap, fuse, detect, video, tasks, account)"
    action = command_group(commands, "remote", help_text, __doc__, common, _connection)

    image_help = "a file, or an http(s) URL the server fetches"
    swap = action("swap", "swap the face of SOURCE onto a face of TARGET")
    swap.add_argument("source", help=f"image with the face to use: {image_help}")
    swap.add_argument("target", help=f"image with the face to replace: {image_help}")
    swap.add_argument("-o", "--output", type=Path, help="where to write the result")
    swap.add_argument("--target-index", type=target_selection, default=0, help="N, N,M,... or all")
    swap.add_argument("--face-map", type=face_map, help="source:target pairs, e.g. 0:1,1:0")
    swap.add_argument("--format", choices=FORMATS, help="output format (default: from -o)")
    _wait_option(swap)

    fuse = action("fuse", "blend the face of DONOR into TEMPLATE")
    fuse.add_argument("donor", help=f"image whose face is blended in: {image_help}")
    fuse.add_argument("template", help=f"image that is kept: {image_help}")
    fuse.add_argument("-o", "--output", type=Path, help="where to write the result")
    fuse.add_argument("--similarity", type=similarity, required=True, help="0 .. 1")
    fuse.add_argument("--format", choices=FORMATS, help="output format (default: from -o)")
    _wait_option(fuse)

    video = action("swap-video", "swap the face of SOURCE into VIDEO (H.264 MP4 out)")
    video.add_argument("source", help=f"image with the face to use: {image_help}")
    video.add_argument("video", help="video (MP4/MOV, WebM/MKV, AVI): a file or a URL")
    video.add_argument("-o", "--output", type=Path, help="MP4 to write")
    video.add_argument("--target-index", type=video_selection, help="N or all")
    video.add_argument("--reference-face", help="swap only this person's faces (an image)")
    _wait_option(video)

    detect = action("detect", "print the faces of IMAGE as JSON")
    detect.add_argument("image", help=f"image to look for faces in: {image_help}")

    tasks = action("tasks", "list tasks (ls), show one (get ID) or cancel one (cancel ID)")
    tasks.add_argument(
        "verb", nargs="?", choices=("ls", "get", "cancel"), default="ls", help="default ls"
    )
    tasks.add_argument("task_id", nargs="?", help="the task (for get and cancel)")
    tasks.add_argument("--status", choices=_STATUSES, help="ls: only tasks in this status")
    tasks.add_argument("--limit", type=int, default=20, help="ls: at most N tasks (1..100)")

    action("account", "your credits and usage")


def _wait_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-wait", action="store_true", help="print the queued task and return at once"
    )


def run_remote(args: argparse.Namespace) -> int:
    """Run one `remote` action; SDK errors become the CLI's one-line errors (exit 2)."""
    import faceport_client

    try:
        with faceport_client.Client(base_url=args.api_url, api_key=args.api_key) as client:
            return _ACTIONS[args.action](client, args)
    except faceport_client.FaceportError as exc:
        print(f"faceport: {exc.code}: {exc.message}", file=sys.stderr, flush=True)
        return 2


def _submit(client: Any, args: argparse.Namespace) -> int:
    output = args.output
    if output is None and not args.no_wait:
        raise UsageError("give -o OUTPUT, or --no-wait to only queue the task")
    if args.action == "swap-video":
        run: Callable[..., Any] = client.swap_video
        options: dict[str, Any] = {
            "target_index": args.target_index,
            "reference_face": args.reference_face,
        }
        inputs = (args.source, args.video)
    else:
        output_format = output_format_for(output, args.format) if output else args.format
        options = {"output_format": output_format or "png"}
        if args.action == "fuse":
            run, inputs = client.fuse, (args.donor, args.template)
            options["similarity"] = args.similarity
        else:
            run, inputs = client.swap, (args.source, args.target)
            options |= {"target_index": args.target_index, "face_map": args.face_map}
    with _progress_bar(enabled=not args.json and not args.no_wait) as on_progress:
        task = run(*inputs, wait=not args.no_wait, on_progress=on_progress, **options)
    if output is not None and not args.no_wait:
        task.download(output)
    if args.json:
        print(task.model_dump_json())
    elif args.no_wait:
        print(task.id)
    else:
        print(f"{output}  ({task.id}, {task.price} credits, {task.timings.total_ms} ms)")
    return 0


def _detect(client: Any, args: argparse.Namespace) -> int:
    task = client.detect(args.image)
    if args.json:
        print(task.model_dump_json())
    else:
        print(json.dumps({"faces": [face.model_dump() for face in task.faces]}, indent=2))
    return 0


def _tasks(client: Any, args: argparse.Namespace) -> int:
    if args.verb == "ls":
        page = client.tasks.list(status=args.status, limit=args.limit)
        if args.json:
            print(page.model_dump_json())
        else:
            _print_task_table(page.data)
        return 0
    if not args.task_id:
        raise UsageError(f"tasks {args.verb} needs a task id")
    if args.verb == "get":
        task = client.tasks.get(args.task_id)
    else:
        task = client.tasks.cancel(args.task_id)
    if args.json or args.verb == "get":
        print(task.model_dump_json(indent=None if args.json else 2))
    else:
        print(f"{task.id} {task.status}")
    return 0


def _account(client: Any, args: argparse.Namespace) -> int:
    account = client.account()
    print(account.model_dump_json(indent=None if args.json else 2))
    return 0


def _print_task_table(tasks: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "operation", "status", "progress", "created", "price", box=None)
    for task in tasks:
        created = task.created_at.isoformat(timespec="seconds")
        table.add_row(
            task.id, task.operation, str(task.status), f"{task.progress}%", created, str(task.price)
        )
    console = Console()
    if not console.is_terminal:  # piped: whole ids, never cut to a guessed width
        console = Console(width=200)
    console.print(table)


@contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[Any], None] | None]:
    """A rich progress bar on stderr fed by the SDK's progress callback."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        row = bar.add_task("submitting", total=100)

        def on_progress(task: Any) -> None:
            bar.update(row, completed=task.progress, description=f"{task.id} {task.status}")

        yield on_progress


_ACTIONS: dict[str, Callable[[Any, argparse.Namespace], int]] = {
    "swap": _submit,
    "fuse": _submit,
    "swap-video": _submit,
    "detect": _detect,
    "tasks": _tasks,
    "account": _account,
}

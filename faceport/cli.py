"""The `faceport` command: run the local API, swap faces in files with no server, call a
running server (`faceport remote`), or manage accounts, API keys and credits
(`faceport admin`).

Every command prints one line `faceport: CODE: MESSAGE` on stderr and exits 2 for a user
error (bad input, a refused request), 1 for anything unexpected (its traceback only with
--verbose), 0 otherwise."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import Any

from faceport.admin import add_admin_parser, run_admin
from faceport.cli_args import (
    FORMATS,
    UsageError,
    face_map,
    output_format_for,
    similarity,
    target_selection,
    video_selection,
)
from faceport.errors import FaceportError, InputTooLarge, UnreadableImage, UnsupportedMedia
from faceport.tasks import OutputFormat

_ENHANCE_HELP = "restore each swapped face (FACEPORT_ENGINE=onnx with GFPGANv1.4.onnx)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceport", description=__doc__)
    parser.add_argument("--version", action="version", version=f"faceport {version('faceport')}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show the engine's own logs and tracebacks"
    )
    # Also accepted after the command (`faceport swap ... --verbose`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(
            name, help=help_text, description=help_text, parents=[common]
        )
        return sub

    serve = command("serve", "run the local API (SQLite, files, workers)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--data-dir", type=Path, help="where tasks and files live (default .data)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="make a funded development account on first run; print its key (also kept "
        "in DATA_DIR/dev-api-key)",
    )

    _add_engine_commands(command)

    engine_serve = command(
        "engine-serve", "serve the engine on SageMaker's contract (/ping, /invocations)"
    )
    engine_serve.add_argument("--host", default="0.0.0.0", help="default 0.0.0.0")
    engine_serve.add_argument("--port", type=int, default=8080, help="default 8080")
    # SageMaker starts a container as `<image> serve`; the word is accepted and ignored.
    engine_serve.add_argument("mode", nargs="?", choices=["serve"], help=argparse.SUPPRESS)

    from faceport.remote import add_remote_parser

    add_remote_parser(commands, common)
    add_admin_parser(commands, common)
    return parser


def _add_engine_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """swap, fuse, swap-video and detect: the engine on files."""
    swap = command("swap", "swap the face of SOURCE onto a face of TARGET")
    swap.add_argument("source", type=Path, help="image with the face to use (JPEG, PNG, WebP)")
    swap.add_argument("target", type=Path, help="image with the face to replace")
    swap.add_argument(
        "-o", "--output", type=Path, required=True, help="where to write (.png, .jpg, .webp)"
    )
    swap.add_argument(
        "--target-index",
        type=target_selection,
        default=0,
        help="face(s) of TARGET: N (0 = largest), N,M,... or all",
    )
    swap.add_argument(
        "--face-map",
        type=face_map,
        help="source->target face pairs, e.g. 0:1,1:0 (overrides --target-index)",
    )
    swap.add_argument("--format", choices=FORMATS, help="output format (default: from -o)")
    swap.add_argument("--enhance", action="store_true", help=_ENHANCE_HELP)

    fuse = command("fuse", "blend the face of DONOR into TEMPLATE")
    fuse.add_argument("donor", type=Path, help="image whose face is blended in")
    fuse.add_argument("template", type=Path, help="image that is kept, with its face changed")
    fuse.add_argument("-o", "--output", type=Path, required=True, help="where to write")
    fuse.add_argument(
        "--similarity", type=similarity, required=True, help="0 (template) .. 1 (donor)"
    )
    fuse.add_argument("--format", choices=FORMATS, help="output format (default: from -o)")

    video = command("swap-video", "swap the face of SOURCE into VIDEO (H.264 MP4 out, audio kept)")
    video.add_argument("source", type=Path, help="image with the face to use")
    video.add_argument("video", type=Path, help="video (MP4/MOV, WebM/MKV, AVI) to change")
    video.add_argument("-o", "--output", type=Path, required=True, help="MP4 to write")
    video.add_argument(
        "--target-index",
        type=video_selection,
        help="N: the Nth largest face of the first frame with faces, followed (default 0); or all",
    )
    video.add_argument(
        "--reference-face", type=Path, help="swap only faces of the person in this image"
    )
    video.add_argument("--enhance", action="store_true", help=_ENHANCE_HELP)

    detect = command("detect", "print the faces of IMAGE as JSON")
    detect.add_argument("image", type=Path, help="image to look for faces in")

    command(
        "engine-info", "check the engine FACEPORT_ENGINE chooses; print it, its provider and models"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `faceport` console script."""
    args = _parser().parse_args(argv)
    try:
        with _native_logs_hidden(unless=args.verbose or args.command in ("serve", "engine-serve")):
            return _run(args)
    except FaceportError as error:
        _fail(f"{error.code}: {error.message}")
        return 2
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(f"{where}{exc.strerror or exc}")
        return 2
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:
        if args.verbose:
            traceback.print_exc()
        _fail(f"unexpected error: {type(exc).__name__}: {exc} (run with --verbose for details)")
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args)
    if args.command == "engine-serve":
        return _engine_serve(args)
    if args.command == "admin":
        return run_admin(args)
    if args.command == "remote":
        from faceport.remote import run_remote

        return run_remote(args)
    if args.command == "swap-video":
        return _swap_video(args)
    if args.command == "engine-info":
        return _engine_info()
    return _engine_command(args)


def _fail(message: str) -> None:
    print(f"faceport: {message}", file=sys.stderr, flush=True)


@contextmanager
def _native_logs_hidden(*, unless: bool) -> Iterator[None]:
    """Hide what the engine's native libraries (TensorFlow Lite, absl) write straight to
    file descriptor 2; our own messages go to the real stderr through a copy of it."""
    if unless:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    original = sys.stderr
    if _writes_to_fd_2(original):  # else (a test's capture) it is not affected anyway
        sys.stderr = os.fdopen(os.dup(saved), "w", buffering=1)
    try:
        yield
    finally:
        if sys.stderr is not original:
            sys.stderr.close()
            sys.stderr = original
        os.dup2(saved, 2)
        os.close(saved)


def _writes_to_fd_2(stream: Any) -> bool:
    try:
        return bool(stream.fileno() == 2)
    except (AttributeError, OSError, ValueError):
        return False


def read_image_file(path: Path) -> bytes:
    """The bytes of an image file, refused with its name when they are not an image."""
    from faceport.media import sniff_media_type

    data = path.read_bytes()
    if sniff_media_type(data) is None:
        raise UnreadableImage(f"{path}: not an image faceport reads (JPEG, PNG or WebP).")
    return data


def _engine_command(args: argparse.Namespace) -> int:
    """swap, fuse and detect: the engine on files, with no server."""
    from faceport import engine
    from faceport.adapters.local.engine import in_process_engine
    from faceport.settings import Settings

    if args.command == "detect":
        image = read_image_file(args.image)
        with _naming(args.image):
            faces = [face.to_dict() for face in engine.detect_faces_in_image(image)]
        print(json.dumps({"faces": faces}, indent=2))
        return 0
    output_format: OutputFormat = output_format_for(args.output, args.format)
    if args.command == "fuse":
        donor, template = read_image_file(args.donor), read_image_file(args.template)
        with _naming(args.donor, args.template):
            result = engine.fuse_faces(
                donor, template, similarity=args.similarity, output_format=output_format
            )
    else:
        source, target = read_image_file(args.source), read_image_file(args.target)
        with _naming(args.source, args.target):
            result = in_process_engine(Settings()).swap_face(
                source,
                target,
                target_index=args.target_index,
                face_map=args.face_map,
                output_format=output_format,
                enhance=args.enhance,
            )
    args.output.write_bytes(result)
    return 0


@contextmanager
def _naming(*paths: Path) -> Iterator[None]:
    """An image that sniffs right but does not decode: say which file(s) and what works."""
    try:
        yield
    except UnreadableImage as exc:
        names = " or ".join(str(p) for p in paths)
        raise UnreadableImage(
            f"{names}: {exc.message} Accepted: JPEG, PNG and WebP files that open in an "
            "image viewer."
        ) from None


def _swap_video(args: argparse.Namespace) -> int:
    """The video swap on files: the API's limits and container rule, progress on stderr."""
    from faceport.adapters.local.engine import in_process_engine
    from faceport.media import inspect_video
    from faceport.settings import Settings
    from faceport.video_probe import check_video_limits, probe_video

    if args.target_index is not None and args.reference_face is not None:
        raise UsageError("give --target-index or --reference-face, not both")
    settings = Settings()
    engine = in_process_engine(settings)
    if args.video.stat().st_size > settings.max_video_bytes:
        raise InputTooLarge(
            f"{args.video}: larger than {settings.max_video_bytes} bytes.",
            limit=settings.max_video_bytes,
        )
    with args.video.open("rb") as handle:
        head = handle.read(64)
    try:
        inspect_video(head, max_bytes=settings.max_video_bytes)  # a photo is no video
    except UnsupportedMedia as exc:
        raise UnsupportedMedia(f"{args.video}: {exc.message}") from None
    check_video_limits(probe_video(args.video), settings)
    source = read_image_file(args.source)
    reference = read_image_file(args.reference_face) if args.reference_face else None

    def progress(fraction: float) -> None:
        print(f"\r{fraction:4.0%}", end="", file=sys.stderr, flush=True)

    report = engine.swap_face_video(
        source,
        args.video,
        args.output,
        target_index=0 if args.target_index is None else args.target_index,
        reference_face=reference,
        progress=progress,
        should_stop=lambda: False,
        enhance=args.enhance,
    )
    print(file=sys.stderr)
    print(json.dumps(report))
    return 0


def _engine_info() -> int:
    """Check the engine the settings choose (the model directory, for onnx) and print it."""
    from faceport.adapters.local.engine import in_process_engine
    from faceport.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    print(json.dumps(in_process_engine(Settings()).describe(), indent=2))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from faceport.adapters.local.gateway import local_edge
    from faceport.adapters.local.http_server import make_server
    from faceport.adapters.local.runtime import build_local_runtime
    from faceport.admin import DEV_KEY_FILE, ensure_dev_key
    from faceport.api.app import build_app
    from faceport.api.groups import ROUTE_GROUPS
    from faceport.logs import use_json_logs
    from faceport.settings import Settings

    overrides: dict[str, Any] = {
        name: value
        for name, value in (("host", args.host), ("port", args.port), ("data_dir", args.data_dir))
        if value is not None
    }
    settings = Settings(**overrides)
    use_json_logs(logging.DEBUG if args.verbose else logging.INFO)
    runtime = build_local_runtime(settings)
    app = build_app(runtime.services)
    limiter = runtime.services.rate_limiter
    handler = local_edge(app.resolve, runtime.accounts, limiter, ROUTE_GROUPS)
    # base64 costs 4 bytes per 3: two images; or a video with its source and reference
    body_cap = settings.max_input_bytes * 3 + 1024 * 1024
    video_cap = (settings.max_video_bytes + 2 * settings.max_input_bytes) * 4 // 3 + 1024 * 1024
    server = make_server(
        settings.host,
        settings.port,
        handler,
        runtime.blobs,
        body_cap,
        {"/v1/video-face-swap": video_cap},
    )
    runtime.start()
    if args.dev:
        key = ensure_dev_key(runtime.accounts, settings.data_dir, settings.dev_account_credits)
        key_file = settings.data_dir / DEV_KEY_FILE
        print(f"development API key (also in {key_file}): {key}", flush=True)

    def _shutdown(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    url = settings.base_url
    print(
        f"faceport listening on {url}  (docs: {url}/docs, playground: {url}/playground)",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        runtime.stop()
    return 0


def _engine_serve(args: argparse.Namespace) -> int:
    from faceport import engine
    from faceport.adapters.aws.engine_container import video_runner
    from faceport.adapters.local.engine import in_process_engine
    from faceport.engine_serving import make_engine_server
    from faceport.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    backend = in_process_engine(settings)  # a bad model directory stops the start here
    engine.detect_faces_in_image(_warm_up_image())  # load the models before /ping says ok
    # On SageMaker (the stack names the tasks table and buckets) it runs video tasks too.
    server = make_engine_server(args.host, args.port, backend, video_runner(settings, backend))
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"faceport engine listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


def _warm_up_image() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (128, 128, 128)).save(buffer, "PNG")
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())

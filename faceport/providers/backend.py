"""`ProviderBackend`: one configured provider as an implementation of the backend port
(`faceport.backends.PolledBackend`): submit refuses (`ProviderRefused`) or takes the work,
poll reports it, and a finished result is fetched through the SSRF-safe fetcher, labelled
as synthetic media where the provider's file is not, and stored as faceport's own result
(a provider's URL never reaches a client)."""

from __future__ import annotations

import contextlib
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from faceport.backends import Job, Output, Waiting, input_blob
from faceport.errors import FaceportError, ProviderFailed, ProviderRefused
from faceport.inputs import byte_cap
from faceport.media import inspect_image, sniff_video_type
from faceport.operations import result_key, result_media, spec_of
from faceport.ports import Fetcher
from faceport.provenance import label_image, label_mp4
from faceport.providers.base import Call, Circuit, Outcome, PollTrouble, Provider, ProviderHttp
from faceport.settings import ProviderConfig, Settings


class ProviderBackend:
    """The backend port on one entry of FACEPORT_PROVIDERS."""

    def __init__(
        self,
        name: str,
        config: ProviderConfig,
        provider: Provider,
        http: ProviderHttp,
        *,
        fetcher: Fetcher,
        settings: Settings,
    ) -> None:
        self.name = name
        self.kind: str = config.kind
        self.poll_interval_s = config.poll_interval_s or provider.poll_interval_s
        self.timeout_s = config.timeout_s
        self.cost = config.cost
        self.calls_back = provider.calls_back
        self._provider = provider
        self._http = http
        self._fetcher = fetcher
        self._settings = settings
        self._circuit = Circuit()
        # Calls this process has open there (`max_concurrency`: one process, the local
        # shape; each Lambda on AWS counts only its own).
        self._open: set[str] = set()
        self._open_lock = threading.Lock()
        self._max_open = config.max_concurrency

    def start(self, job: Job) -> Output | Waiting:
        """Submit; `ProviderRefused` when it did not take the work (nothing started)."""
        if not self._provider.supports(job.task):
            raise ProviderRefused(f"{self.name} does not do this task as asked.")
        with self._open_lock:
            if self._max_open is not None and len(self._open) >= self._max_open:
                raise ProviderRefused(f"{self.name} has {len(self._open)} calls open already.")
        self._circuit.check()
        try:
            submitted = self._provider.submit(self._http, self._call(job))
        except ProviderRefused:
            self._circuit.record(refused=True)
            raise
        self._circuit.record(refused=False)
        return self._settle(job, submitted.remote_id, submitted.outcome)

    def poll(self, job: Job, remote_id: str) -> Output | Waiting:
        try:
            outcome = self._provider.poll(self._http, remote_id)
        except PollTrouble:
            outcome = Outcome("running")
        return self._settle(job, remote_id, outcome)

    def cancel(self, remote_id: str) -> None:
        with self._open_lock:
            self._open.discard(remote_id)
        # Best effort: the task is canceled on our side either way.
        with contextlib.suppress(FaceportError, PollTrouble):
            self._provider.cancel(self._http, remote_id)

    def _call(self, job: Job) -> Call:
        task, blobs = job.task, job.blobs
        ttl = int(self.timeout_s) + 300  # the provider may fetch late in its run
        return Call(
            task=task,
            link=lambda name: blobs.url_for(input_blob(task, name), ttl),
            data=lambda name: blobs.get(input_blob(task, name)),
            callback_url=job.callback_url if self.calls_back else None,
        )

    def _settle(self, job: Job, remote_id: str, outcome: Outcome) -> Output | Waiting:
        with self._open_lock:
            if outcome.state == "running":
                self._open.add(remote_id)
            else:
                self._open.discard(remote_id)
        if outcome.state == "running":
            return Waiting(remote_id, self.poll_interval_s, callback=self.calls_back)
        if outcome.state == "failed":
            raise outcome.error or ProviderFailed()
        return replace(self._store(job, outcome), remote_id=remote_id or None)

    def _store(self, job: Job, outcome: Outcome) -> Output:
        """Copy the provider's result into faceport's storage, labelled."""
        task = job.task
        kind = spec_of(task.operation).result
        if kind == "data":
            if outcome.result_data is None:
                raise ProviderFailed("The provider's answer carried no result data.")
            return Output(result_data=outcome.result_data)
        data = outcome.result_bytes
        if data is None:
            if outcome.result_url is None:
                raise ProviderFailed("The provider's answer carried no result.")
            cap = byte_cap("video" if kind == "video" else "image", self._settings)
            data, _ = self._fetcher.fetch(outcome.result_url, max_bytes=cap)
        key, media_type = result_key(task), result_media(task)[1]
        if kind == "video":
            self._store_video(job, key, data)
        else:
            job.blobs.put(key, self._labelled_image(data, media_type), media_type)
        return Output(result_key=key)

    def _labelled_image(self, data: bytes, media_type: str) -> bytes:
        settings = self._settings
        try:
            info = inspect_image(
                data, max_bytes=settings.max_input_bytes, max_pixels=settings.max_input_pixels
            )
        except FaceportError as exc:
            raise ProviderFailed(f"The provider's result is not a usable image: {exc}") from exc
        if info.media_type != media_type:
            raise ProviderFailed(f"The provider made {info.media_type}, not {media_type}.")
        return label_image(data, info.width, info.height)

    def _store_video(self, job: Job, key: str, data: bytes) -> None:
        if sniff_video_type(data) != "video/mp4":
            raise ProviderFailed("The provider's result is not an MP4 video.")
        with tempfile.TemporaryDirectory(prefix="faceport-") as name:
            path = Path(name) / "result.mp4"
            path.write_bytes(data)
            label_mp4(path)
            job.blobs.put_file(key, path, "video/mp4")

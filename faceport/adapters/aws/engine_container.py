"""The engine container's side of a video task on AWS (SageMaker async endpoint).

A video's `EngineRequest` names the task instead of carrying the video: the container
reads the task from DynamoDB, streams the video from the inputs bucket to a scratch file,
runs the in-process backend on it (the engine's own four-thread pipeline) and streams the
result to `results/<task>.mp4`, writing progress onto the task as it goes and sending the
waiting Dispatch step's heartbeat (its token is on the task's item) three times per
`engine_heartbeat_s` from a thread of its own, from the download to the upload. So a
video of any length the limits accept neither times out nor hides its progress, and the
request SageMaker carries stays tiny. The container's
role may read and update tasks, read inputs, put results and send heartbeats
(infra/inference.py).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from faceport import workflow
from faceport.adapters.aws.clients import AwsClients
from faceport.adapters.aws.dynamodb_tasks import DynamoDbTaskStore
from faceport.adapters.aws.s3_blobs import S3BlobStore
from faceport.adapters.aws.sagemaker import SageMakerAsyncEngine
from faceport.backends import InProcessBackend, Output
from faceport.ports import Engine
from faceport.settings import Settings
from faceport.tasks import TaskStatus

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoRunner:
    """Runs a video task by id, against the deployment's tables and buckets."""

    settings: Settings
    tasks: DynamoDbTaskStore
    blobs: S3BlobStore
    calls: SageMakerAsyncEngine  # only its heartbeat: the waiting step's token is on the task
    backend: InProcessBackend

    def __call__(self, task_id: str) -> Output | None:
        """The task's output, or None when it is no longer running (canceled)."""
        task = self.tasks.get(task_id)
        if task is None or task.status is not TaskStatus.RUNNING:
            return None
        job = workflow.job_of(task, self.tasks, self.blobs, self.settings)
        done = threading.Event()
        beats = threading.Thread(target=self._beat, args=(task_id, done), daemon=True)
        beats.start()
        try:
            return self.backend.start(job)
        finally:
            done.set()
            beats.join()

    def _beat(self, task_id: str, done: threading.Event) -> None:
        """Heartbeats from download to upload, three per `engine_heartbeat_s`, whatever
        the engine is doing (reading, loading models, encoding)."""
        every_s = self.settings.engine_heartbeat_s / 3
        while True:
            try:
                if not self.calls.heartbeat(task_id):
                    return  # nobody waits any more (canceled, timed out)
            except Exception:
                logger.exception("heartbeat for %s failed; trying again", task_id)
            if done.wait(every_s):
                return


def video_runner(
    settings: Settings, engine: Engine, clients: AwsClients | None = None
) -> VideoRunner | None:
    """The container's video runner, or None where no deployment is named (a local
    `faceport engine-serve`, which then takes image requests only)."""
    if not (settings.tasks_table and settings.inputs_bucket and settings.results_bucket):
        return None
    clients = clients or AwsClients()
    return VideoRunner(
        settings=settings,
        tasks=DynamoDbTaskStore(settings.tasks_table, clients),
        blobs=S3BlobStore(settings.inputs_bucket, settings.results_bucket, clients),
        calls=SageMakerAsyncEngine(
            settings.engine_endpoint,
            tasks_table=settings.tasks_table,
            requests_bucket=settings.inputs_bucket,
            clients=clients,
            timeout_s=settings.engine_timeout_s,
        ),
        backend=InProcessBackend(engine),
    )

"""faceport-client: the faceport face-swap API from Python.

from faceport_client import Client

client = Client()  # FACEPORT_API_URL, FACEPORT_API_KEY
task = client.swap("me.jpg", "poster.jpg", on_progress=lambda t: print(t.progress))
task.download("swapped.png")
"""

from faceport_client._async import AsyncClient
from faceport_client._base import VERSION as __version__
from faceport_client._client import Client
from faceport_client._errors import (
    AuthenticationError,
    ConflictError,
    ConnectionFailed,
    FaceportError,
    InsufficientCreditsError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    TaskCanceledError,
    TaskFailedError,
    WaitTimeout,
    WebhookVerificationError,
)
from faceport_client._models import (
    Account,
    DetectedFace,
    FaceBox,
    SigningSecrets,
    Task,
    TaskBackend,
    TaskList,
    TaskResult,
    TaskStatus,
    WebhookEvent,
)

__all__ = [
    "Account",
    "AsyncClient",
    "AuthenticationError",
    "Client",
    "ConflictError",
    "ConnectionFailed",
    "DetectedFace",
    "FaceBox",
    "FaceportError",
    "InsufficientCreditsError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SigningSecrets",
    "Task",
    "TaskBackend",
    "TaskCanceledError",
    "TaskFailedError",
    "TaskList",
    "TaskResult",
    "TaskStatus",
    "WaitTimeout",
    "WebhookEvent",
    "WebhookVerificationError",
    "__version__",
]

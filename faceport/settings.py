"""Settings: one pydantic model, read from `FACEPORT_*` environment variables once."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from faceport.tasks import Operation
from faceport.webhooks import RetryPolicy

MiB = 1024 * 1024


ProviderKind = Literal["apiinone", "zhiqite", "mjproxy", "heygen", "ailabtools", "faceport"]
# The name FACEPORT_ROUTES gives the deployment's own engine (in-process or SageMaker).
ENGINE = "engine"
# faceport's route where a provider calls back (`?task=<id>&token=<per-task token>`); no
# API key: the token is the proof (faceport.workflow.callback_is_genuine).
PROVIDER_CALLBACK_PATH = "/v1/provider-callback"


class ProviderConfig(BaseModel):
    """One external provider (an entry of FACEPORT_PROVIDERS); see faceport/providers/."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ProviderKind
    base_url: str = Field(pattern=r"^https?://[^/?#]+(/[^?#]*)?$")
    api_key: str | None = Field(default=None, repr=False)
    # On AWS: the Secrets Manager secret holding the key (never a plain variable there).
    api_key_secret: str | None = None
    timeout_s: float = Field(default=900.0, gt=0, description="Give up on a call after this.")
    poll_interval_s: float | None = Field(default=None, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    cost: float = Field(default=0.0, ge=0, description="What one call costs the operator.")

    @model_validator(mode="after")
    def _one_key_source(self) -> ProviderConfig:
        if self.api_key is not None and self.api_key_secret is not None:
            raise ValueError("give api_key or api_key_secret, not both")
        return self


class Settings(BaseSettings):
    """Everything tunable about a faceport deployment; every field is `FACEPORT_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="FACEPORT_", frozen=True, extra="ignore")

    # local shape
    data_dir: Path = Path(".data")
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = Field(
        default=None, description="Base URL clients use to reach this server (result links)."
    )
    workers: int = Field(default=2, ge=1, description="Worker threads running tasks.")

    # the face engine: the bundled classic one, or the neural backend on the operator's
    # ONNX models (see README, "Bringing models")
    engine: Literal["classic", "onnx"] = Field(
        default="classic", description="classic, or onnx (needs model_dir)."
    )
    model_dir: Path | None = Field(
        default=None, description="Where the onnx engine's model files are (checked at start)."
    )

    # inputs
    allow_private_urls: bool = Field(
        default=False, description="Let input URLs point at loopback/private addresses (dev only)."
    )
    max_input_bytes: int = 15 * MiB
    max_input_pixels: int = 40_000_000
    max_video_bytes: int = Field(default=100 * MiB, description="Largest input video file.")
    max_video_duration_s: float = Field(default=300.0, description="Longest input video.")
    max_video_pixels: int = Field(
        default=1920 * 1080, description="Most pixels per video frame (1080p either way up)."
    )
    fetch_timeout_s: float = 10.0
    fetch_max_redirects: int = 3

    # tasks
    max_wait_s: int = Field(default=60, description="Cap on `Prefer: wait=N`.")
    result_url_ttl_s: int = 3600
    task_lease_s: float = Field(
        default=30.0,
        description="A running task whose worker stops renewing is retried after this.",
    )
    task_max_attempts: int = 3
    progress_interval_s: float = Field(
        default=0.5, gt=0, description="A long task writes its progress at most this often."
    )

    # webhooks (see faceport/webhooks.py; the defaults spread 12 tries over about a day)
    webhook_max_attempts: int = Field(default=12, ge=1, description="Tries per delivery.")
    webhook_retry_base_s: float = Field(default=15.0, gt=0, description="First retry delay.")
    webhook_retry_factor: float = Field(default=3.0, ge=1.0)
    webhook_retry_max_delay_s: float = Field(default=5 * 3600.0, gt=0)
    webhook_retry_jitter: float = Field(default=0.2, ge=0.0, lt=1.0)
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="Per try, whole request.")
    webhook_secret_grace_s: int = Field(
        default=24 * 3600, ge=0, description="How long a rotated-out signing secret still signs."
    )
    webhook_senders: int = Field(default=4, ge=1, description="Local sender threads.")

    @cached_property
    def webhook_retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.webhook_max_attempts,
            base_s=self.webhook_retry_base_s,
            factor=self.webhook_retry_factor,
            max_delay_s=self.webhook_retry_max_delay_s,
            jitter=self.webhook_retry_jitter,
            timeout_s=self.webhook_timeout_s,
        )

    # AWS shape: names of what the CDK stack made, given to every Lambda as env vars.
    tasks_table: str = ""
    accounts_table: str = ""
    idempotency_table: str = ""
    webhooks_table: str = ""
    webhook_queue_url: str = ""
    inputs_bucket: str = ""
    results_bucket: str = ""
    state_machine_arn: str = ""
    engine_endpoint: str = Field(default="", description="SageMaker async endpoint name.")
    engine_heartbeat_s: int = Field(
        default=900,
        ge=1,
        description="A running engine call that reports nothing for this long fails.",
    )
    engine_timeout_s: int = Field(
        default=3600, ge=1, description="An engine call still running after this long fails."
    )

    # external providers (faceport/providers/) and which backends each operation tries,
    # in order: {"face_swap": ["engine", "apiinone"]}. Without them: the engine only.
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    routes: dict[Operation, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _routes_name_backends(self) -> Settings:
        if ENGINE in self.providers:
            raise ValueError(f"{ENGINE!r} names the built-in engine, not a provider")
        for operation, names in self.routes.items():
            unknown = [n for n in names if n != ENGINE and n not in self.providers]
            if unknown or not names:
                raise ValueError(f"routes[{operation}] names no such backend: {unknown}")
        return self

    # prices in credits; a task is charged only when it succeeds
    price_face_swap: int = Field(default=4, ge=0)
    price_face_fusion: int = Field(default=4, ge=0)
    price_face_detect: int = Field(default=1, ge=0)
    price_video_per_second: int = Field(default=2, ge=0, description="Per started second.")
    price_video_minimum: int = Field(default=10, ge=0)
    price_video_hold_s: int = Field(
        default=300,
        ge=1,
        description="Seconds of video held at submit when the duration is not known yet "
        "(URL input); the charge at success is for the real duration, never more than held.",
    )

    # per API key
    rate_limit_per_s: float = Field(default=10.0, gt=0, description="Sustained requests/s.")
    rate_limit_burst: int = Field(default=20, ge=1, description="Requests allowed at once.")
    max_active_tasks_per_key: int = Field(
        default=10, ge=1, description="Unfinished (queued or running) tasks per API key."
    )
    idempotency_ttl_s: int = Field(default=24 * 3600, ge=60)

    # accounts
    dev_account_credits: int = Field(
        default=1000, ge=0, description="Credits of the account `faceport serve --dev` creates."
    )

    @classmethod
    def environment(cls, **values: str | int | float) -> dict[str, str]:
        """The FACEPORT_* variables that give these settings, checked against the model
        (an unknown name, a bad value, or for AwsSettings a missing required name, is an
        error here: at synth, for the stack)."""
        unknown = set(values) - set(cls.model_fields)
        if unknown:
            raise ValueError(f"not faceport settings: {sorted(unknown)}")
        cls.model_validate(values)
        return {_variable(name): str(value) for name, value in values.items()}

    @cached_property
    def base_url(self) -> str:
        """Where result links point: `public_url`, or the local server's own address."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


_NAME = Field(min_length=1)


class AwsSettings(Settings):
    """The AWS shape's settings: the names of what the stack made are required, so a Lambda
    missing one stops at its first event with the variable's name, not at its first call.
    The stack makes every Lambda's environment with `environment` (infra/stack.py)."""

    tasks_table: str = _NAME
    accounts_table: str = _NAME
    idempotency_table: str = _NAME
    webhooks_table: str = _NAME
    webhook_queue_url: str = _NAME
    inputs_bucket: str = _NAME
    results_bucket: str = _NAME
    state_machine_arn: str = _NAME
    engine_endpoint: str = _NAME

    @classmethod
    def from_environment(cls) -> AwsSettings:
        """This Lambda's settings, or a RuntimeError naming every missing variable."""
        try:
            return cls()
        except ValidationError as exc:
            names = sorted({_variable(str(error["loc"][0])) for error in exc.errors()})
            raise RuntimeError(
                f"faceport on AWS cannot start: {', '.join(names)} must be set "
                "(the stack sets them; see infra/stack.py)"
            ) from None


def _variable(field_name: str) -> str:
    return f"{Settings.model_config['env_prefix']}{field_name.upper()}"

"""Settings: one pydantic model, read from `FACEPORT_*` environment variables once."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


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

    @cached_property
    def base_url(self) -> str:
        """Where result links point: `public_url`, or the local server's own address."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

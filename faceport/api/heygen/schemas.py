"""HeyGen's request and answer bodies (also the OpenAPI schema of its routes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from faceport.api.dialect import InputUrl, Lenient


class FaceswapInput(Lenient):
    source_image_url: InputUrl = Field(description="The face to swap in (one face).")
    target_video_url: InputUrl = Field(description="The video that receives it.")


class ExecutionRequest(Lenient):
    """Start a workflow execution; faceport runs the FaceswapNode only."""

    workflow_type: Literal["FaceswapNode"]
    input: FaceswapInput


class NodeRequest(Lenient):
    """The older node route: the same, with `node_type`."""

    node_type: Literal["FaceswapNode"]
    input: FaceswapInput


class ExecutionError(BaseModel):
    code: str
    message: str


class ExecutionOutput(BaseModel):
    video_url: str


class Execution(BaseModel):
    execution_id: str
    status: Literal["submitted", "processing", "completed", "failed", "not_found"]
    progress: int | None = None
    output: ExecutionOutput | None = None
    error: ExecutionError | None = None


class ExecutionAnswer(BaseModel):
    data: Execution

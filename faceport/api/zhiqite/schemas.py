"""Zhiqite's request and answer bodies."""

from __future__ import annotations

from pydantic import BaseModel, Field

from faceport.api.dialect import CallbackUrl, InputUrl, Lenient

# The business id is also faceport's idempotency key (printable ASCII, no spaces).
BusinessTaskId = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")


class RoopRequest(Lenient):
    """Copy the face in `sourceUrl` onto `targetUrl`."""

    sourceUrl: InputUrl = Field(description="The image that provides the face.")
    targetUrl: InputUrl = Field(description="The image that receives it.")
    businessTaskId: str = BusinessTaskId
    callbackUrl: CallbackUrl | None = None


class RoopQueryRequest(Lenient):
    businessTaskId: str = BusinessTaskId


class ToolTask(BaseModel):
    taskId: str
    toolTask: str
    status: int = Field(description="0 running, 1 success, 2 failure")
    outputImageUrl: str
    desc: str | None = None


class ToolTaskAnswer(BaseModel):
    code: str
    msg: str
    data: ToolTask

"""API in One's request and answer bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictInt

from faceport.api.dialect import CallbackUrl, InputUrl, Lenient


class ApiInOneSwapRequest(Lenient):
    """The seed's body; `callback_url` is the family's optional webhook."""

    model: Literal["face-swap"]
    image: InputUrl = Field(description="URL of the target image (the body/scene to modify).")
    face_image: InputUrl = Field(description="URL of the source face image (the face to swap in).")
    target_index: StrictInt = Field(default=0, ge=0, le=10, description="0 = the largest face.")
    output_format: Literal["png", "jpg", "jpeg", "webp"] = "png"
    callback_url: CallbackUrl | None = None


class Created(BaseModel):
    task_id: str
    status: Literal["IN_PROGRESS"]
    model: str
    created_at: str


class CreatedAnswer(BaseModel):
    code: int
    message: str
    data: Created


class TaskData(BaseModel):
    task_id: str
    model: str
    status: Literal["created", "processing", "completed", "failed"]
    outputs: list[str]
    error: str
    created_at: str


class TaskAnswer(BaseModel):
    code: int
    message: str
    data: TaskData

"""MJ-proxy's request and answer bodies (camelCase, as the family's Java and .NET DTOs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from faceport.api.dialect import MAX_URL_CHARS, InputUrl, Lenient


class AccountFilter(Lenient):
    instanceId: str | None = None


class SwapFaceRequest(Lenient):
    """InsightFace swap: each image as base64 (data URL or bare) or as a URL."""

    sourceBase64: str | None = Field(default=None, description="The face image.")
    targetBase64: str | None = Field(default=None, description="The image that receives it.")
    sourceUrl: InputUrl | None = None
    targetUrl: InputUrl | None = None
    accountFilter: AccountFilter | None = Field(default=None, description="Accepted, ignored.")
    notifyHook: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    state: str | None = Field(default=None, max_length=255)


class IdsRequest(Lenient):
    ids: list[str] | None = Field(default=None, max_length=100)


class MjQueryRequest(Lenient):
    """A paged query (Spring Pageable: 0-based `pageNumber`)."""

    pageNumber: int = Field(default=0, ge=0)
    pageSize: int = Field(default=10, ge=1, le=100)
    sort: str = "id,desc"
    ids: list[str] | None = None
    id: str | None = None
    status: str | None = None
    statusSet: list[str] | None = None
    action: str | None = None
    state: str | None = None
    description: str | None = None
    failReason: str | None = None


class SubmitResult(BaseModel):
    code: int
    description: str
    result: str | None
    properties: dict[str, Any]


class MjTask(BaseModel):
    id: str
    action: Literal["SWAP_FACE"]
    status: Literal["NOT_START", "IN_PROGRESS", "SUCCESS", "FAILURE"]
    prompt: str
    promptEn: str
    description: str
    state: str | None
    submitTime: int
    startTime: int | None
    finishTime: int | None
    progress: str
    imageUrl: str | None
    failReason: str | None
    properties: dict[str, Any]
    buttons: list[Any]


class TaskPage(BaseModel):
    content: list[MjTask]
    totalElements: int
    totalPages: int
    number: int
    size: int
    numberOfElements: int
    first: bool
    last: bool

"""multipart/form-data bodies (native image uploads, AILabTools), read with the standard
library's MIME parser."""

from __future__ import annotations

import base64
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

from faceport.errors import InvalidJson


def parse_form(body: bytes, content_type: str) -> dict[str, tuple[bytes, bool]]:
    """The parts of a multipart/form-data body: field name -> (bytes, is a file)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InvalidJson("The multipart/form-data body could not be parsed.")
    parts: dict[str, tuple[bytes, bool]] = {}
    for part in message.iter_parts():
        assert isinstance(part, Message)
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        parts[name] = (data, part.get_filename() is not None)
    return parts


def body_bytes(body: str | None, is_base64: bool) -> bytes:
    """A proxy event's body as bytes (binary media types arrive base64-encoded)."""
    if not body:
        return b""
    return base64.b64decode(body) if is_base64 else body.encode("latin-1")

"""The sandbox's HTTP vocabulary: a parsed request, a reply, and Amazon's error bodies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

JSON = "application/json"
HAL_JSON = "application/hal+json"


class ApiError(Exception):
    """An SP-API error answer: `{"errors": [{"code", "message", "details"}]}` with a status."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def invalid_input(message: str, details: str = "") -> ApiError:
    return ApiError(400, "InvalidInput", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFound", message)


@dataclass(frozen=True)
class Request:
    """One HTTP request, with the path parameters its route captured."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def values(self, name: str) -> list[str]:
        """A query list, given repeated (`a=1&a=2`) or comma-separated (`a=1,2`)."""
        found: list[str] = []
        for raw in self.query.get(name, []):
            found.extend(part.strip() for part in raw.split(",") if part.strip())
        return found

    def value(self, name: str) -> str | None:
        raw = self.query.get(name)
        return raw[-1] if raw else None

    def json_body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise invalid_input("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise invalid_input("The request body must be a JSON object.")
        return data


@dataclass(frozen=True)
class Reply:
    """An HTTP answer."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)


def json_reply(data: Any, status: int = 200, content_type: str = JSON) -> Reply:
    return Reply(status, json.dumps(data).encode("utf-8"), content_type)


def error_reply(error: ApiError, content_type: str = JSON) -> Reply:
    body = {"errors": [{"code": error.code, "message": error.message, "details": error.details}]}
    return json_reply(body, error.status, content_type)


def s3_error(status: int, code: str, message: str) -> Reply:
    """Presigned upload and download URLs answer like S3 does: an XML error document."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
    )
    return Reply(status, body.encode("utf-8"), "application/xml")

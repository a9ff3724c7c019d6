"""Errors are data: every failure Parley reports is a ParleyError carrying Intercom's code,
message, HTTP status and (where one is to blame) the field. One renderer turns them into
Intercom's `error.list`; no layer below the edge knows about HTTP."""

from __future__ import annotations


class ParleyError(Exception):
    status: int = 500
    code: str = "server_error"
    default_message: str = "Server Error"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        code: str | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        super().__init__(self.message)


class Unauthorized(ParleyError):
    status = 401
    code = "unauthorized"
    default_message = "Access Token Invalid"


class NotFound(ParleyError):
    status = 404
    code = "not_found"
    default_message = "Resource Not Found"


class InvalidParameter(ParleyError):
    status = 400
    code = "parameter_invalid"
    default_message = "Invalid parameter"


class MissingParameter(ParleyError):
    status = 400
    code = "parameter_not_found"
    default_message = "Missing parameter"


class Unprocessable(ParleyError):
    status = 422
    code = "parameter_invalid"
    default_message = "Unprocessable entity"


class Conflict(ParleyError):
    status = 409
    code = "conflict"
    default_message = "Conflict"


class VersionInvalid(ParleyError):
    status = 400
    code = "intercom_version_invalid"
    default_message = "The requested version could not be found"


class PayloadTooLarge(ParleyError):
    status = 413
    code = "parameter_invalid"
    default_message = "The request body is too large"

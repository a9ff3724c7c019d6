"""POST /messages: admin-initiated in-app messages and emails."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from parley.api.endpoint import Call
from parley.api.fields import ContactRef, NumericId, Timestamp
from parley.api.routes import conversations
from parley.api.routing import route
from parley.errors import InvalidParameter, MissingParameter, Unprocessable
from parley.render import conversation as render
from parley.services import conversations as service


class Sender(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["admin"]
    id: NumericId


class CreateMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")
    # `in_app` in the request enum, `inapp` in the response and the schema titles: accept both.
    message_type: Literal["in_app", "inapp", "email"]
    subject: StrictStr | None = None
    body: StrictStr | None = None
    template: StrictStr | None = None
    from_: Sender = Field(alias="from")
    to: ContactRef | list[ContactRef]
    created_at: Timestamp | None = None
    create_conversation_without_contact_reply: StrictBool = False


async def create_message(call: Call) -> Any:
    sender = call.json.get("from") if isinstance(call.json, dict) else None
    if call.version.is_legacy and isinstance(sender, dict) and sender.get("type") != "admin":
        # 1.x starts a user's conversation here (`from: {type: user, id}`): POST /conversations.
        return await conversations.create_conversation(call)
    body = call.body(CreateMessage)
    if not body.body or not body.body.strip():
        raise InvalidParameter("Body is required", field="body")
    message_type = "email" if body.message_type == "email" else "inapp"
    if message_type == "email" and not body.subject:
        raise Unprocessable(
            "No subject supplied for email message", code="parameter_not_found", field="subject"
        )
    recipients = body.to if isinstance(body.to, list) else [body.to]
    if len(recipients) != 1:
        if not recipients:
            raise MissingParameter("to is required", field="to")
        raise InvalidParameter("Parley delivers a message to exactly one recipient", field="to")
    created = await service.create_from_admin(
        call.tx,
        call.ctx,
        admin_id=body.from_.id,
        recipient=recipients[0].key("to"),
        message_type=message_type,
        subject=body.subject,
        body=body.body,
        created_at=body.created_at,
        visible=body.create_conversation_without_contact_reply,
    )
    return render.message(
        kind="admin_message",
        message_id=created.message_id,
        created_at=created.created_at,
        subject=created.subject if message_type == "email" else None,
        body=created.body,
        message_type=message_type,
        conversation_id=created.conversation_id if created.visible else None,
    )


routes = [route("POST", "/messages", create_message)]

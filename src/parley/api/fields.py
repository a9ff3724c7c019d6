"""Field types shared by request bodies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

from parley.errors import MissingParameter
from parley.kit.clock import MAX_TIMESTAMP
from parley.kit.numbers import INT64_MAX, INT64_MIN, is_digits, is_int64
from parley.services.conversations import ContactKey

UNKNOWN_ID = -1
"""What a body id becomes when it is a number no row can have (see NumericId). Stored ids are
positive; -1 rather than 0, which some fields give a meaning (assignee_id 0: nobody)."""


def _numeric_id(value: Any) -> int:
    """Intercom's descriptions type body ids as strings while their examples send numbers:
    accept both (spec-digest §6.1). Anything else is a 400 naming the field.

    A number too large for the stores' 64-bit keys (an integer beyond ±2^63, a numeric string of
    more than 18 digits) names no row, and the drivers cannot even bind it: it becomes
    UNKNOWN_ID, so that it gets the answer of any unknown id of its field (the admin's, the
    tag's, the conversation's 404) instead of a 500. So NumericId is for ids that are looked up,
    never for values that are stored as sent."""
    if isinstance(value, bool):
        raise ValueError("must be an id (a number or a numeric string)")
    if isinstance(value, int):
        return value if is_int64(value) else UNKNOWN_ID
    if isinstance(value, str) and is_digits(value.strip()):
        digits = value.strip()
        return int(digits) if len(digits) <= 18 else UNKNOWN_ID
    raise ValueError("must be an id (a number or a numeric string)")


NumericId = Annotated[int, BeforeValidator(_numeric_id)]
Timestamp = Annotated[int, Field(ge=0, le=MAX_TIMESTAMP)]  # unix seconds up to year 9999
Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]  # a number stored as sent


class ContactRef(BaseModel):
    """A contact a message names: `from` of a contact's (POST /conversations, 1.x POST
    /messages), `to` of an admin's (POST /messages). 1.x names it by `id`, `user_id` or
    `email` ("identified by their user_id, email or id values"); 2.x describes `id` only and
    takes the others too (docs/behaviour.md)."""

    model_config = ConfigDict(extra="ignore")
    type: Literal["user", "lead", "contact"]
    id: StrictStr | None = None
    user_id: StrictStr | None = None
    email: StrictStr | None = None

    def key(self, field: str) -> ContactKey:
        """The contact named, from the body field `field`: by `id` if given, else `user_id`,
        else `email` (a client that sends more than one, such as `{type, id, email}`, is
        answered by the most specific, as it was when only `id` was read)."""
        for name, value in (("id", self.id), ("user_id", self.user_id), ("email", self.email)):
            if value is not None:
                return ContactKey(self.type, f"{field}.{name}", **{name: value})
        # `id` is what every version documents
        raise MissingParameter(f"{field}.id is required", field=f"{field}.id")

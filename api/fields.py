"""Field and path types shared by the routers (one definition each)."""

from __future__ import annotations

from typing import Annotated
from typing import Literal

from fastapi import Path
from pydantic import AfterValidator
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Strict

from core.text import unsafe_character

UUID_PATTERN = r"^[0-9a-f-]{36}$"
KEY_PATTERN = r"^[a-z2-7]{24}$"  # core.tokens.random_key / domain_key


class Body(BaseModel):
    """A request body: a field it does not know is refused, so a misspelt one never passes
    silently."""

    model_config = ConfigDict(extra="forbid")


# A count (units, credits, seconds, uses): a JSON integer, never `true` or "7".
Count = Annotated[int, Strict()]
Locale = Literal["en", "zh-TW"]
BusinessId = Annotated[str, Path(pattern=UUID_PATTERN, description="The Business's id")]
AccountId = Annotated[str, Path(pattern=UUID_PATTERN, description="The account's id")]
InstanceId = Annotated[str, Path(pattern=UUID_PATTERN, description="The product instance's id")]
EndpointId = Annotated[
    str, Path(pattern=r"^ep_[0-9a-f]{24}$", description="The webhook endpoint's id")
]
EventId = Annotated[str, Path(pattern=r"^evt_[0-9a-f]{24}$", description="The event's id")]


def _one_line(value: str) -> str:
    char = unsafe_character(value)
    if char is not None:
        raise ValueError(f"must not contain control or line-break characters (U+{ord(char):04X})")
    return value


# Free text that reaches a mail header, a page or a log (a name, a description): one line.
OneLine = Annotated[str, AfterValidator(_one_line)]

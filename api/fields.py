"""Field and path types shared by the routers (one definition each)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path

UUID_PATTERN = r"^[0-9a-f-]{36}$"
KEY_PATTERN = r"^[a-z2-7]{24}$"  # core.tokens.random_key / domain_key

Locale = Literal["en", "zh-TW"]
BusinessId = Annotated[str, Path(pattern=UUID_PATTERN, description="The Business's id")]
AccountId = Annotated[str, Path(pattern=UUID_PATTERN, description="The account's id")]
InstanceId = Annotated[str, Path(pattern=UUID_PATTERN, description="The product instance's id")]

"""Numbers, days and times as each language writes them (Babel: "1,000", "Dec 5, 2027";
「2027年12月5日」), for pages and mails alike. Spaces inside are non-breaking, so a phone never
splits a date across lines."""

from __future__ import annotations

from datetime import UTC
from datetime import date
from datetime import datetime

from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal

BABEL_LOCALES = {"en": "en", "zh-TW": "zh_Hant_TW"}
NO_BREAK = str.maketrans({" ": "\u00a0", "-": "\u2011"})


def _babel(locale: str) -> str:
    return BABEL_LOCALES.get(locale, "en")


def listing(values: list[str], locale: str) -> str:
    """「端點防護和 EDR 附加元件」, "A, B, and C"."""
    return format_list(values, locale=_babel(locale))


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=_babel(locale))


def day(value: date | str, locale: str) -> str:
    """A day ("Dec 5, 2027"; 「2027年12月5日」); an ISO date as flows carry it, or a date."""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return format_date(value, "medium", locale=_babel(locale)).translate(NO_BREAK)


def moment(value: datetime, locale: str) -> str:
    """A day and time in UTC, to the minute (the server does not know the reader's zone)."""
    utc = value.astimezone(UTC)
    return f"{day(utc.date(), locale)} {utc:%H:%M} UTC".translate(NO_BREAK)

"""The words of the customer's pages and mails, in English and Traditional Chinese: one
vocabulary per language (docs/pages.md).
One page is in one language: the flow's, unless the customer chose another."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from core.words_en import EN
from core.words_zh_tw import ZH_TW

LOCALES = ("en", "zh-TW")
LANGUAGE_NAMES = {"en": "English", "zh-TW": "繁體中文"}

TEXT: dict[str, dict[str, str]] = {"en": EN, "zh-TW": ZH_TW}


def text(locale: str, key: str, **values: Any) -> str:
    words = TEXT.get(locale, TEXT["en"]).get(key) or TEXT["en"][key]
    return words.format(**values) if values else words


def html_text(locale: str, key: str, **values: Any) -> Markup:
    """The words for a page: the values are escaped, unless they are markup themselves (a
    `<time>` element)."""
    words = TEXT.get(locale, TEXT["en"]).get(key) or TEXT["en"][key]
    return Markup(words).format(**values)


def ago(locale: str, seconds: float) -> str:
    """How long ago, as a person says it: "just now", "3 min ago"."""
    minutes = int(seconds // 60)
    return text(locale, "ago.minutes", n=minutes) if minutes else text(locale, "ago.now")


def within(locale: str, seconds: float) -> str:
    """How long until, rounded up: "in less than a minute", "in 2 min"."""
    if seconds < 60:
        return text(locale, "in.now")
    return text(locale, "in.minutes", n=-(-int(seconds) // 60))


def refusal_text(locale: str, code: str, retry_after: str | None) -> str:
    """A flow's refusal in the customer's words and language (its own message is for operators
    and integrators): when to try again, in minutes."""
    key = f"error.{code}" if f"error.{code}" in TEXT["en"] else "error.other"
    minutes = -(-int(retry_after or 60) // 60)
    return text(locale, key, minutes=minutes)


def listed(locale: str, names: list[str]) -> str:
    """Names in a sentence: "A, B and C"; 「A、B 及 C」."""
    if len(names) < 2:
        return "".join(names)
    last = text(locale, "and")
    separator = "、" if locale == "zh-TW" else ", "
    return f"{separator.join(names[:-1])}{last}{names[-1]}"


def locale_of(requested: str | None, accept_language: str | None, default: str) -> str:
    """The customer's choice, else the flow's locale, else what the browser asks for."""
    if requested in LOCALES:
        return requested
    if default in LOCALES:
        return default
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh") and tag not in ("zh-cn", "zh-sg", "zh-hans"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return "en"

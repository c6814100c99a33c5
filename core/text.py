"""Text that decides an identity or reaches a mail header, a page or a log (docs/security.md)."""

from __future__ import annotations

import unicodedata

# Control (CR, LF, tab, NUL, VT, NEL...), invisible format (a right-to-left override that
# disguises text) and line/paragraph separators (U+2028, U+2029): none belongs in a one-line field.
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def email_key(email: str) -> str:
    """An address as it decides identity: `Grace@Example.com` and `grace@example.com` are one
    mailbox. What the person typed is kept for display; this is what is compared."""
    return email.strip().lower()


def unsafe_character(value: str) -> str | None:
    """The first character of `value` that would split a mail header or a log line, or None."""
    for char in value:
        if unicodedata.category(char) in _UNSAFE_CATEGORIES:
            return char
    return None

"""The Activation Code of an on-premises license certificate (docs/flows/on-premises.md): typed
by a person, so it reads in groups of five from an alphabet without look-alikes, and ends in a
check character that catches a mistyped character or two swapped characters before any request.

    7KQ3M-X2HPT-9WEFA-RN4CD-VJ8GB   (24 random characters, ~119 bits, and the check)

Only the code's SHA-256 is stored (`hash_code`); the plain code is in the certificate mail and
on its page (sealed at rest for them).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from core.sealing import Sealer
from core.settings import Settings

# No 0/O, 1/I/L: nothing a person can read as something else.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RANDOM_CHARACTERS = 24  # 24 * log2(31) = 118.9 bits
GROUP = 5
_VALUE = {character: value for value, character in enumerate(ALPHABET)}
_SEPARATORS = re.compile(r"[\s\-]+")


def check_character(body: str) -> str:
    """The character that makes the weighted sum of the whole code (position i counts i times
    its value) a multiple of 31. As 31 is prime and the positions are fewer, any one mistyped
    character and any two swapped characters change that sum: the check fails."""
    weight = len(body) + 1  # the check character's own position
    total = sum(position * _VALUE[character] for position, character in enumerate(body, 1))
    return ALPHABET[-total * pow(weight, -1, len(ALPHABET)) % len(ALPHABET)]


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARACTERS))
    return grouped(body + check_character(body))


def grouped(plain: str) -> str:
    return "-".join(plain[start : start + GROUP] for start in range(0, len(plain), GROUP))


def normalized(typed: str) -> str | None:
    """The code as typed (any case, spaces or dashes anywhere), in its printed form; None when it
    cannot be one: a wrong length, a character not in the alphabet or a failing check."""
    plain = _SEPARATORS.sub("", typed).upper()
    if len(plain) != RANDOM_CHARACTERS + 1 or not set(plain) <= _VALUE.keys():
        return None
    if check_character(plain[:-1]) != plain[-1]:
        return None
    return grouped(plain)


def hash_code(code: str) -> str:
    """What is stored and what a flow knows: the SHA-256 of the printed form."""
    return hashlib.sha256(code.encode()).hexdigest()


def codes_sealer(settings: Settings) -> Sealer:
    """Seals the plain codes at rest (the certificate page opens them)."""
    return Sealer(settings.payload_keys, "activation codes")

"""Time-ordered UUIDs (RFC 9562 version 7) for money rows.

Random UUIDv4 keys scatter inserts across the whole primary-key index; version 7
keys start with a millisecond timestamp, so new rows land at the right edge of the
index like a sequence would, while staying unguessable enough for public ids.
"""

import secrets
import time
import uuid


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(secrets.token_bytes(10), "big")  # 80 random bits, 74 used
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b, 62 bits
    return uuid.UUID(int=value)


def whole_number(text: str, *, max_digits: int = 18) -> int | None:
    """`text` as a whole number if it is one (ASCII digits, at most `max_digits`), else None.

    str.isdigit() also takes "²", which int() refuses (a 500), and a number past bigint
    would reach PostgreSQL; neither is an id.
    """
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= max_digits else None

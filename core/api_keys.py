"""API keys that are stored only as a digest: shown to their owner once, never readable again.

A key is a prefix that says what it is for (`op_`, `ps_`) and 256 random bits. With that
much entropy a plain SHA-256 is enough (no salt, no slow hash): a stolen table of
digests gives no usable key, and a lookup is one indexed equality on the hot path.
"""

import hashlib
import secrets


def new_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()

"""Reading JSON that comes from outside: UTF-8 only, at most 32 levels deep, no NUL, no lone surrogates.

Each refusal has a reason a client can act on. Why these rules:
- PostgreSQL stores neither U+0000 in text nor the escape \\u0000 in jsonb, and a lone
  surrogate cannot be encoded as UTF-8: accepted, either fails a later write (a 500)
  or a later reader. Keys are checked like values.
- Deep nesting costs recursion in every reader after us (serializers, json.dumps of a
  fingerprint, the database's jsonb). The decoder itself stops at Python's recursion
  limit with a RecursionError, which is turned into the same refusal.
- NaN and Infinity are not JSON (RFC 8259), as DRF's own strict parser says.
"""

import json
import re

MAX_DEPTH = 32
LOCATE_BUDGET = 10_000
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_CONTAINERS = (dict, list)
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class UnsafeJSON(ValueError):
    """The text is not JSON we accept; the message says why (and where, as a JSONPath)."""


def loads(data: bytes | str) -> object:
    """The document in `data`, or UnsafeJSON."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnsafeJSON(f"the body is not UTF-8 (invalid byte at position {error.start})") from None
    try:
        document = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise UnsafeJSON(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise UnsafeJSON(f"not valid JSON ({error})") from None
    check(document)
    return document


def check(document: object) -> None:
    """Refuse a decoded document nested deeper than MAX_DEPTH or holding a NUL or lone surrogate.

    Level by level, with the per-item work in comprehensions and one regex search over
    each level's joined strings, so a megabyte of small items costs milliseconds, not a
    second. No recursion, so any depth is safe.
    """
    level, depth = [document], 0
    while level:
        containers = [v for v in level if type(v) is dict or type(v) is list]
        values = [v for v in level if type(v) is str]
        keys = [key for c in containers if type(c) is dict for key in c]
        for texts, what in ((values, "a string"), (keys, "a key")):
            if found := _FORBIDDEN.search("".join(texts)):
                _refuse(document, f"{what} contains {_named(found.group())}", depth)
        if containers and depth >= MAX_DEPTH:
            _refuse(document, f"JSON nested deeper than {MAX_DEPTH} levels", depth)
        level = [item for c in containers for item in (c.values() if type(c) is dict else c)]
        depth += 1


def _refuse(document, reason: str, depth: int):
    """Raise UnsafeJSON naming where: the first refused item's JSONPath if a short search finds it."""
    located = _first_refused(document, budget=LOCATE_BUDGET)
    if located is None:
        raise UnsafeJSON(f"{reason} (at depth {depth})")
    what, path = located
    raise UnsafeJSON(f"{what} (at {_render(path)})")


def _first_refused(document, *, budget: int) -> tuple[str, tuple | None] | None:
    """What is refused and where, depth first, looking at `budget` items at most: the search is
    per item in Python, and a body of a million items must not cost a second to word its refusal.
    The stack holds iterators (children are never copied) and each path points at its parent's."""
    if type(document) is str:
        found = _FORBIDDEN.search(document)
        return (f"a string contains {_named(found.group())}", None) if found else None
    stack = [(_children(document), 1, None)] if type(document) in _CONTAINERS else []
    while stack and budget > 0:
        children, depth, path = stack[-1]
        step = next(children, None)
        if step is None:
            stack.pop()
            continue
        budget -= 1
        key, value = step
        if type(key) is str and (found := _FORBIDDEN.search(key)):
            return f"a key contains {_named(found.group())}", path
        if type(value) is str and (found := _FORBIDDEN.search(value)):
            return f"a string contains {_named(found.group())}", (path, key)
        if type(value) in _CONTAINERS:
            if depth >= MAX_DEPTH:
                return f"JSON nested deeper than {MAX_DEPTH} levels", (path, key)
            stack.append((_children(value), depth + 1, (path, key)))
    return None


def _children(container):
    return iter(container.items()) if type(container) is dict else enumerate(container)


def _named(char: str) -> str:
    return "a NUL character (\\u0000)" if char == "\x00" else f"a lone surrogate (\\u{ord(char):04x})"


def _render(path) -> str:
    parts = []
    while path is not None:
        path, step = path
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif _PLAIN_KEY.fullmatch(step):
            parts.append(f".{step}")
        else:  # quoted and escaped, so a hostile key cannot forge the message; long keys cut
            parts.append(f"[{json.dumps(step[:40])}]")
    return "$" + "".join(reversed(parts))


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")

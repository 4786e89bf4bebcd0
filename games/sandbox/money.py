"""Amounts as the game wallet API writes them: decimal strings in the currency's unit.

The game keeps integers in minor units and converts only at the wire. It has its own
table of ISO 4217 exponents (an outside provider does not read the casino's); for a
currency it does not know, the number of decimals the casino's balance answer uses.
"""

import re

EXPONENTS = {
    **dict.fromkeys(("EUR", "USD", "GBP", "TRY", "CAD", "AUD", "NZD", "CHF", "SEK", "NOK"), 2),
    **dict.fromkeys(("DKK", "PLN", "CZK", "HUF", "BRL", "MXN", "ZAR", "INR"), 2),
    **dict.fromkeys(("JPY", "KRW", "CLP", "ISK"), 0),
    **dict.fromkeys(("BHD", "KWD", "JOD", "TND"), 3),
}

_DECIMAL = re.compile(r"^-?(0|[1-9][0-9]*)(\.([0-9]+))?$")


def exponent(currency: str, *, like: str | None = None) -> int:
    """The currency's minor-unit exponent; unknown currencies take the decimals of `like`."""
    if currency in EXPONENTS:
        return EXPONENTS[currency]
    if like and (match := _DECIMAL.match(like)):
        return len(match.group(3) or "")
    return 2


def to_text(minor: int, currency: str, *, like: str | None = None) -> str:
    """Minor units to text: 12345 EUR -> "123.45"; 500 JPY -> "500"."""
    places = exponent(currency, like=like)
    sign, minor = ("-", -minor) if minor < 0 else ("", minor)
    if places == 0:
        return f"{sign}{minor}"
    whole, fraction = divmod(minor, 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}"


def to_minor(text: str, currency: str, *, like: str | None = None) -> int:
    """Text to minor units: "123.45" EUR -> 12345. Refuses more decimals than the currency has (ValueError)."""
    match = _DECIMAL.match(str(text).strip())
    if not match:
        raise ValueError(f"not a decimal amount: {text!r}")
    places = exponent(currency, like=like)
    fraction = match.group(3) or ""
    if len(fraction) > places:
        raise ValueError(f"{text!r} has more than {places} decimals for {currency}")
    negative = text.strip().startswith("-")
    value = int(match.group(1)) * 10**places + int((fraction + "0" * places)[:places] or "0")
    return -value if negative else value

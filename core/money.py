"""Money as integers in minor units, and the one place that converts to and from text.

The API speaks decimal strings ("25.00") plus an ISO 4217 code; everything below the
API speaks integers in the currency's minor unit. Floats never appear.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 minor units for the currencies a casino is likely to accept. A currency
# missing here is not accepted anywhere, which is the safe default.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "TRY": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "CHF": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "INR": 2,
    "JPY": 0,
    "KRW": 0,
    "CLP": 0,
    "ISK": 0,
    "BHD": 3,
    "KWD": 3,
    "JOD": 3,
    "TND": 3,
}

CURRENCY_CHOICES = sorted((code, code) for code in CURRENCY_EXPONENTS)
CURRENCY_CODES = sorted(CURRENCY_EXPONENTS)

# The largest amount we accept in one transaction, in minor units: comfortably inside
# a signed 64-bit column even after summing a day's transactions.
MAX_MINOR_UNITS = 10**15

_DECIMAL_TEXT = re.compile(r"^(?P<int>0|[1-9][0-9]*)(?:\.(?P<frac>[0-9]+))?$")


class AmountError(ValueError):
    """The text is not an acceptable amount; the message says why, for the client."""


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise AmountError(f"Unknown currency {currency!r}.") from None


def parse_amount(text: object, currency: str) -> int:
    """Turn a client's decimal string into minor units, or raise AmountError.

    Accepts only plain positive decimal text with at most the currency's number of
    decimals: no exponent, sign, spaces, thousands separators or JSON numbers.
    """
    if not isinstance(text, str):
        raise AmountError('Amount must be a decimal string such as "25.00", not a number.')
    digits = exponent(currency)
    match = _DECIMAL_TEXT.fullmatch(text)
    if match is None:
        raise AmountError('Amount must be a positive decimal string such as "25.00".')
    fraction = match.group("frac") or ""
    if len(fraction) > digits:
        raise AmountError(f"{currency} amounts have at most {digits} decimal places.")
    integer_part = match.group("int")
    if len(integer_part) > 16:
        raise AmountError("Amount is too large.")
    minor = int(integer_part) * 10**digits + int(fraction.ljust(digits, "0") or "0")
    if minor <= 0:
        raise AmountError("Amount must be greater than zero.")
    if minor > MAX_MINOR_UNITS:
        raise AmountError("Amount is too large.")
    return minor


def format_amount(minor: int, currency: str) -> str:
    """Minor units to the API's decimal string: 2500 EUR -> "25.00"."""
    digits = exponent(currency)
    value = Decimal(minor).scaleb(-digits)
    return f"{value:.{digits}f}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units with its currency, for display and error payloads."""

    minor: int
    currency: str

    def __str__(self) -> str:
        return f"{format_amount(self.minor, self.currency)} {self.currency}"


def display_money(minor: int | None, currency: str) -> str:
    """Money for people, in the active language: "1,000.00 EUR" in English, "1.000,00 EUR" in Turkish.

    The API and every stored value use format_amount (no grouping, a dot); this is for
    pages and the admin only. Blank for None.
    """
    if minor is None:
        return ""
    from django.utils.formats import number_format  # Django's locale data; only pages need it

    digits = exponent(currency)
    text = number_format(Decimal(minor).scaleb(-digits), digits, use_l10n=True, force_grouping=True)
    return f"{text} {currency}"

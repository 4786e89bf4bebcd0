"""Serializer fields for money: decimal strings in, decimal strings out."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import CURRENCY_EXPONENTS, AmountError, format_amount, parse_amount

AMOUNT_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]+)?$"


@extend_schema_field(
    {
        "type": "string",
        "pattern": AMOUNT_PATTERN,
        "example": "25.00",
        "description": "Decimal string in major units, at most the currency's decimals (EUR: 2, JPY: 0).",
    }
)
class AmountField(serializers.Field):
    """Accepts only a JSON string; a JSON number (floats!) is refused, never coerced."""

    default_error_messages = {"type": 'Must be a decimal string such as "25.00", not a number.'}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("type")
        return data

    def to_representation(self, value):
        return value


def currency_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=sorted(CURRENCY_EXPONENTS), **kwargs)


def amount_in_minor_units(attrs: dict) -> int:
    """Validate `amount` against `currency`; raises a field error the client can act on."""
    try:
        return parse_amount(attrs["amount"], attrs["currency"])
    except AmountError as error:
        raise serializers.ValidationError({"amount": [str(error)]}) from None


def money_text(minor: int | None, currency: str) -> str | None:
    return None if minor is None else format_amount(minor, currency)

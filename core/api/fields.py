"""Serializer fields for money (decimal strings in, decimal strings out) and strict JSON scalars."""

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


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only: "7", 7.0 and true are refused, not coerced (DRF's IntegerField takes them)."""

    default_error_messages = {"type": "Must be a whole number such as 7, not text or a fraction."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: "yes", 1 and "true" are refused, not coerced."""

    default_error_messages = {"type": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("type")
        return data


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

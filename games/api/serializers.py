"""The game wallet API's shapes: the player's session start, and the provider calls (for the schema)."""

from rest_framework import serializers

from core.api.fields import AmountField, StrictIntegerField, currency_field


class SessionRequestSerializer(serializers.Serializer):
    game = StrictIntegerField(min_value=1, help_text="The game's id (GET games/ lists them).")
    currency = currency_field(help_text="One of the casino's currencies; the session plays in it.")


class SessionSerializer(serializers.Serializer):
    session_token = serializers.CharField(help_text="For the game provider (gs_…); shown once.")
    launch_url = serializers.CharField(help_text="Opens the game; carries the session token and the API base.")
    expires_at = serializers.DateTimeField(help_text="Bets need the session unexpired; wins and rollbacks do not.")


class GameSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    provider = serializers.CharField(source="account.slug")


class GameListSerializer(serializers.Serializer):
    games = GameSerializer(many=True)


_TOKEN = "The session token the player's launch URL carried."  # noqa: S105 - a help text
_TX = "The provider's id of this call, unique per provider account; the same id again is a retry."


class BalanceCallSerializer(serializers.Serializer):
    session_token = serializers.CharField(max_length=255, help_text=_TOKEN)
    currency = currency_field(required=False, help_text="If sent, the session's currency.")


class BetCallSerializer(serializers.Serializer):
    session_token = serializers.CharField(max_length=255, help_text=_TOKEN)
    transaction_id = serializers.CharField(max_length=255, help_text=_TX)
    round_id = serializers.CharField(max_length=255, help_text="The provider's round; a first bet opens it.")
    amount = AmountField()
    currency = currency_field(help_text="The session's currency.")


class WinCallSerializer(BetCallSerializer):
    round_id = serializers.CharField(max_length=255, help_text="A round with a bet of this player.")
    amount = AmountField(help_text='Decimal string; "0.00" records a win of nothing (it can close the round).')
    round_closed = serializers.BooleanField(
        required=False, default=False, help_text="true: the round takes no more bets."
    )


class RollbackCallSerializer(BetCallSerializer):
    round_id = serializers.CharField(max_length=255, required=False, help_text="Optional: the bet's round is used.")
    amount = AmountField(help_text="The whole amount of the bet rolled back.")
    reference_transaction_id = serializers.CharField(max_length=255, help_text="The bet's transaction_id.")


class GameAnswerSerializer(serializers.Serializer):
    balance = serializers.CharField(help_text="The player's available balance after the call, decimal string.")
    currency = serializers.CharField()
    transaction_id = serializers.CharField(allow_null=True, help_text="The call's transaction_id (null: balance).")
    wallet_transaction_id = serializers.CharField(
        allow_null=True, help_text="Our record of the call (a UUID); null for balance."
    )

"""OpenAPI pieces shared by every operation: the problem body, error responses, headers."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from .problems import PROBLEM_CONTENT_TYPE


class AllowedDestinationSerializer(serializers.Serializer):
    payment_method = serializers.CharField()
    amount = serializers.CharField()


class ReceivableSerializer(serializers.Serializer):
    currency = serializers.CharField()
    amount = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details; `error_code` is stable, other members depend on it."""

    type = serializers.CharField(help_text="URI of the problem type.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    error_code = serializers.CharField(help_text="Stable machine-readable code, e.g. INSUFFICIENT_FUNDS.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="VALIDATION_ERROR: messages per field.",
    )
    action = serializers.CharField(required=False, help_text="TENANT_PAYMENT_LIMIT_EXCEEDED: deposit or withdraw.")
    limit = serializers.CharField(required=False)
    used = serializers.CharField(required=False)
    requested = serializers.CharField(required=False)
    available = serializers.CharField(required=False)
    currency = serializers.CharField(required=False)
    from_state = serializers.CharField(required=False)
    to_state = serializers.CharField(required=False)
    tx_type = serializers.CharField(required=False)
    retry_after = serializers.IntegerField(required=False, help_text="RATE_LIMITED: seconds to wait.")
    max_bytes = serializers.IntegerField(required=False, help_text="PAYLOAD_TOO_LARGE: the largest body accepted.")
    retry_after_seconds = serializers.IntegerField(required=False, help_text="PAYOUT_COOLDOWN_ACTIVE: seconds to wait.")
    cooldown_seconds = serializers.IntegerField(required=False)
    attempts = serializers.IntegerField(required=False, help_text="PAYOUT_RETRY_LIMIT_REACHED: attempts made.")
    retry_limit = serializers.IntegerField(required=False, help_text="PAYOUT_RETRY_LIMIT_REACHED: the tenant's limit.")
    approvals = serializers.IntegerField(required=False, help_text="FOUR_EYES_VIOLATION: approvals so far.")
    required = serializers.IntegerField(required=False, help_text="FOUR_EYES_VIOLATION: approvals needed.")
    request_id = serializers.CharField(required=False)
    deposit_id = serializers.CharField(
        required=False, help_text="PROVIDER_UNAVAILABLE: the deposit kept for the retry."
    )
    min_amount = serializers.CharField(required=False, help_text="VALIDATION_ERROR below the tenant's smallest amount.")
    max_amount = serializers.CharField(required=False, help_text="VALIDATION_ERROR above the tenant's largest amount.")
    kind = serializers.CharField(
        required=False,
        help_text="PLAYER_EXCLUDED, EXCLUSION_WOULD_SHORTEN: the exclusion's kind (timeout, self_exclusion, "
        "operator_block, register); PLAYER_LIMIT_EXCEEDED: the limit's kind (deposit, loss).",
    )
    ends_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="PLAYER_EXCLUDED, EXCLUSION_WOULD_SHORTEN: when the exclusion in force ends; null: never.",
    )
    period = serializers.CharField(required=False, help_text="PLAYER_LIMIT_EXCEEDED: day, week or month (rolling).")
    threshold = serializers.CharField(
        required=False, help_text="KYC_REQUIRED on a deposit: the deposits from which identity must be verified."
    )
    deposited = serializers.CharField(required=False, help_text="KYC_REQUIRED on a deposit: completed deposits so far.")
    kyc_status = serializers.CharField(
        required=False, help_text="KYC_REQUIRED on a withdrawal: the player's status (unverified, pending, rejected)."
    )
    payment_method = serializers.CharField(
        required=False, help_text="CLOSED_LOOP_VIOLATION, NOT_FOUND of a destination: the payment method named."
    )
    reason = serializers.CharField(
        required=False,
        help_text="CLOSED_LOOP_VIOLATION: over_net_deposits or not_payout_capable; PLAYER_ACCOUNT_RESTRICTED: "
        "receivable (a chargeback left the player owing the casino).",
    )
    receivables = ReceivableSerializer(
        many=True, required=False, help_text="PLAYER_ACCOUNT_RESTRICTED: what the player owes, per currency."
    )
    allowed = AllowedDestinationSerializer(
        many=True,
        required=False,
        help_text="CLOSED_LOOP_VIOLATION: each payout-capable method and the most it may receive now.",
    )
    transaction_id = serializers.CharField(
        required=False,
        help_text="GAME_TRANSACTION_CONFLICT, GAME_TRANSACTION_ROLLED_BACK: the game provider's transaction_id.",
    )
    rollback_transaction_id = serializers.CharField(
        required=False, help_text="GAME_TRANSACTION_ROLLED_BACK: the rollback that came before the bet."
    )
    reference_transaction_id = serializers.CharField(
        required=False, help_text="GAME_ROUND_SETTLED: the bet the rollback named."
    )
    round_id = serializers.CharField(
        required=False, help_text="GAME_ROUND_CLOSED, GAME_ROUND_UNKNOWN, GAME_ROUND_SETTLED: the provider's round."
    )
    expired_at = serializers.DateTimeField(required=False, help_text="GAME_SESSION_EXPIRED: when the session ended.")


def problem(description: str, *examples: OpenApiExample) -> OpenApiResponse:
    return OpenApiResponse(response=ProblemSerializer, description=description, examples=list(examples))


def problem_example(name: str, error_code: str, status: int, detail: str, **fields) -> OpenApiExample:
    value = {
        "type": f"/api/v1/problems/{error_code.lower().replace('_', '-')}/",
        "title": name,
        "status": status,
        "detail": detail,
        "error_code": error_code,
        **fields,
    }
    return OpenApiExample(name, value=value, response_only=True, status_codes=[str(status)])


def error_responses(*statuses: int, examples: dict[int, list[OpenApiExample]] | None = None) -> dict:
    """{(status, application/problem+json): problem} for the given statuses."""
    descriptions = {
        400: "Invalid request (VALIDATION_ERROR: also JSON nested deeper than 32 levels, or holding NUL characters "
        "or lone surrogates) or missing Idempotency-Key (IDEMPOTENCY_KEY_REQUIRED).",
        401: "No or invalid token (AUTHENTICATION_REQUIRED), or a webhook signature that does not hold "
        "(WEBHOOK_SIGNATURE_INVALID; a game provider's call: SIGNATURE_INVALID).",
        403: "The caller may not do this (PERMISSION_DENIED: not a player, or an operator role too low), the "
        "tenant is suspended (TENANT_SUSPENDED), the player is excluded from deposits and play (PLAYER_EXCLUDED), "
        "must verify their identity first (KYC_REQUIRED), may not cancel a withdrawal at this casino "
        "(WITHDRAWAL_CANCEL_DISABLED), or owes the casino after a chargeback (PLAYER_ACCOUNT_RESTRICTED: no "
        "withdrawals or play until deposits repay it).",
        404: "No such object for this player (NOT_FOUND); other players' and tenants' ids alike.",
        405: "Method not allowed (METHOD_NOT_ALLOWED).",
        406: "Only JSON is served (NOT_ACCEPTABLE).",
        413: "The request body is over 1 MiB (PAYLOAD_TOO_LARGE); it was not read and nothing was done.",
        409: "Illegal state transition (ILLEGAL_TRANSACTION_STATE_TRANSITION), the same Idempotency-Key still "
        "being processed (IDEMPOTENCY_REQUEST_IN_PROGRESS), the four-eyes rule (FOUR_EYES_VIOLATION), a "
        "payout retry refused (PAYOUT_RETRY_LIMIT_REACHED, PAYOUT_COOLDOWN_ACTIVE), or a player's exclusion "
        "that would end sooner than the one in force (EXCLUSION_WOULD_SHORTEN).",
        415: "Send application/json (UNSUPPORTED_MEDIA_TYPE).",
        422: "Refused: insufficient funds, a tenant limit, the player's own limit (PLAYER_LIMIT_EXCEEDED), a "
        "destination the closed-loop rule does not allow (CLOSED_LOOP_VIOLATION), or an Idempotency-Key reused for "
        "another request.",
        429: "Too many requests from this player, or too many refused webhook signatures from this address "
        "(RATE_LIMITED); see Retry-After.",
        500: "Unexpected error (INTERNAL_ERROR); no trace is returned; retrying with the same key is safe.",
        503: "The payment provider cannot be reached (PROVIDER_UNAVAILABLE) or the service is briefly "
        "unavailable (SERVICE_UNAVAILABLE); nothing was done; retry with the same key.",
    }
    examples = examples or {}
    return {
        (status, PROBLEM_CONTENT_TYPE): problem(descriptions[status], *examples.get(status, [])) for status in statuses
    }


READ_ERRORS = (401, 403, 404, 405, 406, 429, 500, 503)
WRITE_ERRORS = (400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 429, 500, 503)

IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=True,
    type=str,
    description=(
        "A unique value (1-255 visible ASCII characters, e.g. a UUID) per intended operation. "
        "Repeating it with the same request returns the first response with Idempotent-Replayed: true; "
        "with a different request it is refused (422 IDEMPOTENCY_KEY_REUSED). Kept for 24 hours."
    ),
)

IDEMPOTENCY_KEY_OPTIONAL = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description=(
        "Optional here (this operation moves no money). When sent, it is held to the same contract as on money "
        "operations: the same key with the same request returns the first response with Idempotent-Replayed: "
        "true, so a retry after a dropped connection does the thing once."
    ),
)

LIMIT_EXCEEDED = problem_example(
    "Daily limit exceeded",
    "TENANT_PAYMENT_LIMIT_EXCEEDED",
    422,
    "The daily withdraw limit of 2000.00 EUR would be exceeded: 1900.00 EUR used today, 250.00 EUR requested.",
    action="withdraw",
    limit="2000.00",
    used="1900.00",
    requested="250.00",
    currency="EUR",
)
INSUFFICIENT = problem_example(
    "Insufficient funds",
    "INSUFFICIENT_FUNDS",
    422,
    "Available balance is 10.00 EUR; 25.00 EUR was requested.",
    available="10.00",
    requested="25.00",
    currency="EUR",
)
BAD_AMOUNT = problem_example(
    "Invalid amount",
    "VALIDATION_ERROR",
    400,
    "The request is not valid.",
    errors={"amount": ["EUR amounts have at most 2 decimal places."]},
)
ILLEGAL = problem_example(
    "Illegal transition",
    "ILLEGAL_TRANSACTION_STATE_TRANSITION",
    409,
    "A withdrawal in state 'approved' cannot move to 'canceled'.",
    from_state="approved",
    to_state="canceled",
    tx_type="withdrawal",
)

PLAYER_EXCLUDED = problem_example(
    "Player excluded",
    "PLAYER_EXCLUDED",
    403,
    "Excluded (timeout) until 2026-12-08T10:00:00+00:00: no deposits or play.",
    kind="timeout",
    ends_at="2026-12-08T10:00:00+00:00",
)
PLAYER_LIMIT_EXCEEDED = problem_example(
    "Player limit exceeded",
    "PLAYER_LIMIT_EXCEEDED",
    422,
    "Your deposit limit of 100.00 EUR per day would be exceeded: 80.00 used, 50.00 requested.",
    kind="deposit",
    period="day",
    limit="100.00",
    used="80.00",
    requested="50.00",
    currency="EUR",
)
KYC_REQUIRED_DEPOSIT = problem_example(
    "Identity verification required",
    "KYC_REQUIRED",
    403,
    "Your deposits reached the amount from which we must verify your identity before you deposit more.",
    threshold="2000.00",
    deposited="2000.00",
    currency="EUR",
)
KYC_REQUIRED_WITHDRAWAL = problem_example(
    "Identity verification required",
    "KYC_REQUIRED",
    403,
    "Your identity must be verified before you can withdraw.",
    kyc_status="unverified",
)
CANCEL_DISABLED = problem_example(
    "Withdrawals cannot be canceled",
    "WITHDRAWAL_CANCEL_DISABLED",
    403,
    "This casino does not let players cancel a withdrawal.",
)
CLOSED_LOOP = problem_example(
    "Closed loop: not to this payment method",
    "CLOSED_LOOP_VIOLATION",
    422,
    "Visa •••• 4242 may receive at most 50.00 EUR now: money goes back to the methods it came from, up to what "
    "each deposited; only winnings beyond that go anywhere.",
    reason="over_net_deposits",
    payment_method="0192c3d4-0000-7000-8000-00000000a001",
    requested="80.00",
    currency="EUR",
    allowed=[
        {"payment_method": "0192c3d4-0000-7000-8000-00000000a001", "amount": "50.00"},
        {"payment_method": "0192c3d4-0000-7000-8000-00000000b002", "amount": "30.00"},
    ],
)
ACCOUNT_RESTRICTED = problem_example(
    "Account restricted",
    "PLAYER_ACCOUNT_RESTRICTED",
    403,
    "The account is restricted until a chargeback is repaid (70.00 EUR owed); deposits repay it.",
    reason="receivable",
    receivables=[{"currency": "EUR", "amount": "70.00"}],
)
UNKNOWN_PAYMENT_METHOD = problem_example(
    "No such payment method",
    "NOT_FOUND",
    404,
    "No such payment method.",
    payment_method="0192c3d4-0000-7000-8000-00000000ffff",
)
EXCLUSION_WOULD_SHORTEN = problem_example(
    "An exclusion can only be extended",
    "EXCLUSION_WOULD_SHORTEN",
    409,
    "A longer exclusion is already in force; a new one can only extend it.",
    kind="self_exclusion",
    ends_at="2027-06-01T10:00:00+00:00",
)


# OpenAPI links: how an operation's response feeds the next request (used by clients
# and by stateful fuzzing). drf-spectacular has no decorator for them, so a
# postprocessing hook adds them by operationId.
LINKS = {
    ("deposits_create", "201"): {
        "GetDeposit": ("deposits_retrieve", {"deposit_id": "$response.body#/id"}),
        "GetDepositReceipt": ("transactions_retrieve", {"transaction_id": "$response.body#/id"}),
    },
    ("withdrawals_create", "201"): {
        "CancelWithdrawal": ("withdrawals_cancel", {"withdrawal_id": "$response.body#/id"}),
        "GetWithdrawalReceipt": ("transactions_retrieve", {"transaction_id": "$response.body#/id"}),
    },
    ("withdrawals_cancel", "200"): {
        "GetCanceledReceipt": ("transactions_retrieve", {"transaction_id": "$response.body#/id"}),
    },
    ("admin_withdrawals_retrieve", "200"): {
        "GetSnapshot": ("admin_transactions_snapshot", {"transaction_id": "$response.body#/transaction/id"}),
        "Approve": ("admin_withdrawals_approve", {"withdrawal_id": "$response.body#/transaction/id"}),
    },
    **{
        (f"admin_withdrawals_{decision}", "200"): {
            "GetWithdrawal": ("admin_withdrawals_retrieve", {"withdrawal_id": "$response.body#/id"}),
            "Reject": ("admin_withdrawals_reject", {"withdrawal_id": "$response.body#/id"}),
            "MarkPaid": ("admin_withdrawals_mark_paid", {"withdrawal_id": "$response.body#/id"}),
            "RetryPayout": ("admin_withdrawals_retry_payout", {"withdrawal_id": "$response.body#/id"}),
        }
        for decision in ("approve", "reject", "mark_paid", "retry_payout")
    },
}


def add_links(result, generator, request, public):
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId"), status))
                if links:
                    response["links"] = {
                        name: {"operationId": target, "parameters": parameters}
                        for name, (target, parameters) in links.items()
                    }
    return result

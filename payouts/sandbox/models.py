"""The sandbox PSP's own records: merchants, payments, payouts and webhook deliveries.

These tables belong to the pretend PSP, not to the product; the product only sees
them through the PSP contract (HTTP or in-process) and signed webhooks.
"""

from django.db import models

from core.unit_of_work import written_by_unit_of_work


class Behavior(models.TextChoices):
    SUCCEED = "succeed", "Always succeed"
    FAIL = "fail", "Always fail"
    FAIL_FIRST = "fail_first", "Fail the first N payouts"
    FAIL_AMOUNT = "fail_amount", "Fail amounts at or above a threshold"
    UNAVAILABLE = "unavailable", "Answer 503 (nothing created)"
    HOLD = "hold", "Accept and never decide (stuck payouts)"


@written_by_unit_of_work
class SandboxMerchant(models.Model):
    merchant_id = models.CharField(max_length=64, unique=True)
    api_key = models.CharField(max_length=200, unique=True)
    webhook_url = models.URLField(max_length=500, blank=True)
    signing_secret = models.CharField(max_length=200, help_text="whsec_... used to sign webhooks.")
    payout_behavior = models.CharField(max_length=16, choices=Behavior.choices, default=Behavior.SUCCEED)
    fail_first = models.PositiveIntegerField(default=0, help_text="fail_first: how many payouts fail.")
    fail_amount_at_or_above = models.BigIntegerField(null=True, blank=True, help_text="fail_amount threshold.")
    latency_ms = models.PositiveIntegerField(default=0, help_text="Delay before answering payout calls.")
    payouts_seen = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.merchant_id


class SandboxInstrument(models.Model):
    """A card, bank account or e-wallet a customer paid with at the checkout; payouts can go to it.

    `token` is what the merchant keeps and pays out to; `fingerprint` is the instrument itself
    (the same card of two customers: one fingerprint, two tokens).
    """

    class Kind(models.TextChoices):
        CARD = "card", "Card"
        BANK_ACCOUNT = "bank_account", "Bank account"
        EWALLET = "ewallet", "E-wallet"

    token = models.CharField(max_length=40, primary_key=True)
    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="instruments")
    customer = models.CharField(max_length=64, blank=True, help_text="The merchant's customer (player) reference.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    fingerprint = models.CharField(max_length=128)
    label = models.CharField(max_length=64)
    payout_capable = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)


class SandboxPayment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    id = models.CharField(max_length=40, primary_key=True)
    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="payments")
    reference = models.CharField(max_length=64, help_text="The merchant's deposit id.")
    customer = models.CharField(max_length=64, blank=True, help_text="The merchant's customer (player) reference.")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    instrument = models.ForeignKey(
        SandboxInstrument, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    dispute = models.CharField(
        max_length=20,
        blank=True,
        choices=[
            ("charged_back", "Charged back"),
            ("chargeback_reversed", "Chargeback reversed"),
            ("charged_back_again", "Charged back again"),
        ],
        help_text="A paid payment the card holder disputed; its status stays paid (it was settled).",
    )
    charged_back_at = models.DateTimeField(null=True, blank=True)
    chargeback_reversed_at = models.DateTimeField(null=True, blank=True)
    charged_back_again_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "reference"], name="sandbox_payment_once")]


@written_by_unit_of_work
class SandboxPayout(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    id = models.CharField(max_length=40, primary_key=True)
    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="payouts")
    idempotency_key = models.CharField(max_length=200)
    reference = models.CharField(max_length=64, blank=True)
    destination = models.CharField(max_length=40, blank=True, help_text="The instrument's token; empty: default.")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    returned_at = models.DateTimeField(
        null=True, blank=True, help_text="The beneficiary's bank sent the paid payout back; its status stays."
    )
    return_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="sandbox_payout_once_per_key")
        ]


@written_by_unit_of_work
class SandboxDelivery(models.Model):
    """One webhook to deliver; retried with exponential backoff until a 2xx or the last try."""

    merchant = models.ForeignKey(SandboxMerchant, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=40)
    payload = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

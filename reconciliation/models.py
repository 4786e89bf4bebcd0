"""Reconciliation runs and the findings they report.

A run is one pass of every invariant check (and, when asked, one PSP settlement
comparison) over one tenant or all of them, on one consistent snapshot. Its findings
are kept with the run; acknowledging or resolving a finding is an audited act
(reconciliation.services). The same disagreement found again by a later run is a new
finding row with the same `key`, so a run is a complete picture of its night, and an
acknowledgement carries over from the previous finding with that key.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.models import ActorFields


class FindingType(models.TextChoices):
    # Ledger against transaction states.
    PAID_WITHDRAWAL_EVENT_COUNT = "paid_withdrawal_event_count", _("Paid withdrawal without exactly one withdraw_paid")
    COMPLETED_DEPOSIT_EVENT_COUNT = (
        "completed_deposit_event_count",
        _("Completed deposit without exactly one deposit_completed"),
    )
    LEDGER_EVENT_STATE_MISMATCH = "ledger_event_state_mismatch", _("Ledger events that the state does not imply")
    # Ledger against itself and the wallets.
    WALLET_AVAILABLE_MISMATCH = "wallet_available_mismatch", _("Available balance differs from the ledger")
    WALLET_HELD_MISMATCH = "wallet_held_mismatch", _("Held balance differs from the ledger")
    WALLET_RECEIVABLE_MISMATCH = (
        "wallet_receivable_mismatch",
        _("What the player owes (receivable) differs from the ledger"),
    )
    UNBALANCED_JOURNAL_ENTRY = "unbalanced_journal_entry", _("Journal entry that does not balance")
    # Payouts.
    DUPLICATE_PAYOUT_SUCCESS = "duplicate_payout_success", _("More than one successful payout attempt")
    PAYOUT_ATTEMPT_STATE_MISMATCH = "payout_attempt_state_mismatch", _("Successful attempt on an unpaid withdrawal")
    STUCK_PAYOUT = "stuck_payout", _("Payout pending beyond the tenant's threshold")
    STUCK_DEPOSIT = "stuck_deposit", _("Deposit open beyond the tenant's threshold")
    # The PSP's settlement report against ours.
    SETTLEMENT_MISSING_IN_PRODUCT = (
        "settlement_missing_in_product",
        _("Settled by the PSP, unknown or not settled here"),
    )
    SETTLEMENT_MISSING_AT_PSP = "settlement_missing_at_psp", _("Settled here, absent from the PSP's report")
    SETTLEMENT_AMOUNT_MISMATCH = "settlement_amount_mismatch", _("PSP and product disagree on the amount")
    SETTLEMENT_CURRENCY_MISMATCH = "settlement_currency_mismatch", _("PSP and product disagree on the currency")
    SETTLEMENT_STATE_MISMATCH = "settlement_state_mismatch", _("PSP and product disagree on the outcome")
    SETTLEMENT_REPORT_UNAVAILABLE = "settlement_report_unavailable", _("The PSP's settlement report could not be read")
    # The game wallet (reconciliation.game_checks).
    GAME_TRANSACTION_EVENT_COUNT = (
        "game_transaction_event_count",
        _("Game transaction without exactly its one ledger event"),
    )
    GAME_ROUND_TOTALS_MISMATCH = "game_round_totals_mismatch", _("Game round totals differ from its transactions")
    GAME_ROUND_IDLE_OPEN = "game_round_idle_open", _("Game round open past the idle time")
    # The game provider's daily report against ours (reconciliation.game_report).
    GAME_REPORT_MISSING_IN_PRODUCT = (
        "game_report_missing_in_product",
        _("In the game provider's report, not applied here"),
    )
    GAME_REPORT_MISSING_AT_PROVIDER = (
        "game_report_missing_at_provider",
        _("Game transaction applied here, absent from the provider's report"),
    )
    GAME_REPORT_AMOUNT_MISMATCH = (
        "game_report_amount_mismatch",
        _("Game provider and product disagree on a transaction's amount, currency or kind"),
    )
    GAME_REPORT_UNAVAILABLE = "game_report_unavailable", _("The game provider's daily report could not be read")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")  # money is wrong somewhere: balances, ledger, double payout
    HIGH = "high", _("High")  # records disagree about what happened to money
    MEDIUM = "medium", _("Medium")  # something is late or could not be checked


class ReconciliationRun(ActorFields):
    """One reconciliation pass; the actor fields name who or what started it."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        COMMAND = "command", _("Management command")
        SCHEDULE = "schedule", _("Schedule")
        API = "api", _("Operator API")
        CONSOLE = "console", _("Console")
        SHELL = "shell", _("Code or shell")

    class Mode(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")

    tenant = models.ForeignKey(
        "tenants.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reconciliation_runs",
        help_text="The tenant checked; empty for a run over all tenants.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SHELL)
    mode = models.CharField(
        max_length=16,
        choices=Mode.choices,
        default=Mode.FULL,
        help_text="Full: every row. Incremental: what changed since the last checkpoint (reconciliation.checkpoint).",
    )
    key = models.CharField(
        max_length=64,
        blank=True,
        help_text="Optional idempotency key (e.g. nightly:2026-11-21): a second run with it returns the first.",
    )
    settlement_date = models.DateField(null=True, blank=True, help_text="The PSP settlement day compared, if any.")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    findings_count = models.PositiveIntegerField(default=0)
    open_count = models.PositiveIntegerField(default=0, help_text="Findings not acknowledged when the run ended.")
    counts_by_type = models.JSONField(default=dict, blank=True)
    counts_by_severity = models.JSONField(default=dict, blank=True)
    stats = models.JSONField(default=dict, blank=True, help_text="Per-check timings and row counts.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-started_at"], name="recon_run_tenant_time")]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=~Q(key="") & Q(status__in=["running", "succeeded"]),
                name="recon_run_key_once",
            ),
        ]

    def __str__(self) -> str:
        scope = self.tenant.slug if self.tenant_id else "all tenants"
        return f"Reconciliation #{self.pk} ({scope}, {self.status})"

    @property
    def scope(self) -> str:
        return f"tenant:{self.tenant_id}" if self.tenant_id else "all"


class Finding(models.Model):
    """One disagreement: what was expected, what was found, about which object."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    # Indexed by the unique (run, key) constraint.
    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="findings", db_index=False)
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    type = models.CharField(max_length=40, choices=FindingType.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    object_type = models.CharField(
        max_length=32, help_text="withdrawal, deposit, wallet, journal_entry, psp_payment or psp_payout."
    )
    object_id = models.CharField(max_length=64)
    key = models.CharField(max_length=200, help_text="type:object_type:object_id[:detail], the same in every run.")
    expected = models.JSONField(null=True, blank=True)
    actual = models.JSONField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    note = models.TextField(blank=True)
    acted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    acted_by_label = models.CharField(max_length=150, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(help_text="When a run first reported this key without it being resolved.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["run", "id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="recon_finding_tenant_status"),
            models.Index(fields=["key", "-id"], name="recon_finding_key"),
            models.Index(fields=["object_id"], name="recon_finding_object"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="recon_finding_once_per_run"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.object_type}:{self.object_id}"


class Checkpoint(models.Model):
    """Where a succeeded all-tenants run left the books: the next incremental run starts from here.

    Per ledger table (journal entries, postings): `*_settled`, an id at or below which
    every row was settled (committed or rolled back) when the run's snapshot was taken,
    so the snapshot saw each of them or it will never exist; `*_high`, the highest id
    the snapshot saw; `*_missing`, the ids between the two that it did not see (their
    transactions were still open: ids are handed out in one order and committed in
    another). The next run's new rows are those above `*_high` and those listed as
    missing. `changes_from` bounds the rows changed since (by their updated_at): every
    transaction the snapshot did not see began after it. Each wallet's ledger sums at
    the snapshot are in WalletTotal. See reconciliation.checkpoint.
    """

    run = models.OneToOneField(ReconciliationRun, on_delete=models.CASCADE, related_name="checkpoint")
    changes_from = models.DateTimeField(
        help_text="Every transaction the snapshot did not see began after this (database clock)."
    )
    entry_settled = models.BigIntegerField()
    entry_high = models.BigIntegerField()
    entry_missing = ArrayField(models.BigIntegerField(), default=list, blank=True)
    posting_settled = models.BigIntegerField()
    posting_high = models.BigIntegerField()
    posting_missing = ArrayField(models.BigIntegerField(), default=list, blank=True)
    wallets = models.PositiveIntegerField(default=0, help_text="Wallet totals written or changed by the run.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Checkpoint of run #{self.run_id}"


class WalletTotal(models.Model):
    """One wallet's ledger sums as of the latest checkpoint, carried forward by incremental runs.

    Written only by all-tenants runs in the transaction that records their checkpoint
    (full runs replace every row, incremental runs change the wallets with new postings),
    and read by incremental runs, which add the postings since and compare with the wallet.
    """

    wallet = models.OneToOneField(
        "wallet.Wallet",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    available = models.BigIntegerField()
    held = models.BigIntegerField()
    receivable = models.BigIntegerField(default=0, db_default=0)  # what the player owes (section 16)

    def __str__(self) -> str:
        return f"Ledger of wallet {self.wallet_id}: {self.available} + {self.held} held, {self.receivable} owed"

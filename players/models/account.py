"""The player account: a casino customer of one tenant."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class KycStatus(models.TextChoices):
    """Know your customer: whether the player's identity is verified (ARCHITECTURE section 14)."""

    UNVERIFIED = "unverified", _("Unverified")
    PENDING = "pending", _("Verification pending")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class Player(models.Model):
    """A casino customer of one tenant, authenticated through a Django user."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="players")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="player")
    external_ref = models.CharField(
        max_length=64, blank=True, help_text="The casino platform's own id for this player."
    )
    display_name = models.CharField(max_length=120, blank=True)
    kyc_status = models.CharField(
        max_length=16, choices=KycStatus.choices, default=KycStatus.UNVERIFIED, db_default=KycStatus.UNVERIFIED
    )
    kyc_updated_at = models.DateTimeField(null=True, blank=True, help_text="When the KYC status last changed.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "wallet_player"  # its table since before players had their own app
        ordering = ["tenant", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "external_ref"],
                condition=~Q(external_ref=""),
                name="player_external_ref_unique_per_tenant",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()

    @property
    def is_verified(self) -> bool:
        return self.kyc_status == KycStatus.VERIFIED


class PlayerSessionToken(models.Model):
    """The player page's API token: valid while the browser session it was issued to lives.

    Issued when the player signs in on the page and handed to the page's script instead
    of the player's long-lived API token. Its expiry is its session's: authentication
    joins the session row and requires it unexpired, so a token stops working the moment
    its session does (idle timeout, sign-out). Sign-out deletes it; deleting the session
    (sign-out, expired sessions cleared) deletes it too. Only the key's SHA-256 is stored.
    """

    digest = models.CharField(max_length=64, primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session = models.ForeignKey("sessions.Session", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session token of user {self.user_id}"

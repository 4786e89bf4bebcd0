"""The player account: a casino customer of one tenant."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Player(models.Model):
    """A casino customer of one tenant, authenticated through a Django user."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="players")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="player")
    external_ref = models.CharField(
        max_length=64, blank=True, help_text="The casino platform's own id for this player."
    )
    display_name = models.CharField(max_length=120, blank=True)
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

"""Who is acting: an operator, a player, a PSP or the system itself."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorType(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    PLAYER = "player", _("Player")
    PSP = "psp", _("Payment provider")
    SYSTEM = "system", _("System")


@dataclass(frozen=True, slots=True)
class Actor:
    """Passed keyword-only to every service and written with each change it makes."""

    type: str
    user: object | None = None  # a django.contrib.auth user, when there is one
    label: str = ""

    @classmethod
    def operator(cls, user) -> "Actor":
        return cls(ActorType.OPERATOR, user, user.get_username())

    @classmethod
    def player(cls, user) -> "Actor":
        return cls(ActorType.PLAYER, user, user.get_username())

    @classmethod
    def psp(cls, provider: str) -> "Actor":
        return cls(ActorType.PSP, None, provider)

    @classmethod
    def system(cls, label: str = "system") -> "Actor":
        return cls(ActorType.SYSTEM, None, label)

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None)

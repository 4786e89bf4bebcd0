from django.apps import AppConfig
from django.db.models.signals import pre_save


def _never_called(sender, **kwargs):
    """The unit of work never sends pre_save: a receiver here would silently not run."""


class UnfencedConfig(AppConfig):
    name = "tests.unfenced"
    label = "tests_unfenced"

    def ready(self):
        from wallet.models import Wallet

        pre_save.connect(_never_called, sender=Wallet, weak=False)

from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "backoffice"
    verbose_name = "Operator console and API"

    def ready(self):
        from backoffice.console import signals  # noqa: F401 - connects the login audit receivers

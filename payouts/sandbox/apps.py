from django.apps import AppConfig


class SandboxPspConfig(AppConfig):
    """A stand-in PSP for development, demos and tests; not installed in production."""

    name = "payouts.sandbox"
    label = "sandbox_psp"
    verbose_name = "Sandbox PSP"

from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallets and ledger"

    def ready(self):
        # psycopg caches the parsing of a statement only up to 50 parameters; a service's
        # single write statement has about 55, and parsing it anew costs ~0.2 ms a call.
        from psycopg import _queries

        from wallet.console import signals  # noqa: F401 - connects the login audit receivers

        _queries.MAX_CACHED_STATEMENT_PARAMS = max(_queries.MAX_CACHED_STATEMENT_PARAMS, 200)

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform"

    def ready(self):
        from core import tasks  # noqa: F401 - registers the housekeeping tasks in every process
        from core.unit_of_work import raise_psycopg_statement_cache_limit

        raise_psycopg_statement_cache_limit()

from django.apps import AppConfig


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = "Payouts and PSPs"

    def ready(self):
        # The wallet starts dispatch by task name; registering the tasks here lets every
        # process (web included) find them, so eager mode in tests applies to them too.
        from payouts import tasks  # noqa: F401

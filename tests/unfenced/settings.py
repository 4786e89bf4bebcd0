"""The test suite's settings plus an app whose signal receiver fails the unit of work's start-up check."""

from config.test_settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.unfenced"]  # noqa: F405

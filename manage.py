#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        settings.SECRET_KEY  # noqa: B018 - loads the settings, which refuse to start misconfigured
    except ImproperlyConfigured as error:
        sys.exit(f"Refusing to start: {error}")  # the reason, without a traceback around it
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

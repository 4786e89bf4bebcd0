import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from core.unit_of_work import refuse_to_start_unfenced  # noqa: E402 - needs the apps loaded above

refuse_to_start_unfenced()

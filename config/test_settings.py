"""Settings of the test suite: the product's own, with a secret key given explicitly.

Tests run the way production does (DJANGO_DEBUG off), where the settings refuse to start
without DJANGO_SECRET_KEY. The key goes into the environment before the product's settings
read it, so the processes the tests start (Celery workers, gunicorn, the sandbox PSP, the
simulation) inherit it too. A key already in the environment is kept.

The one production setting turned off: the redirect of plain HTTP to HTTPS, since the test
client, the live servers and the processes tests start all speak plain HTTP.
"""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-suite-only-key-never-used-outside-the-tests-7c1e94d2b0a3")
os.environ.setdefault("DJANGO_SSL_REDIRECT", "0")

from .settings import *  # noqa: E402, F403

"""Settings of the sandbox PSP service: the product's settings with the PSP's URLs.

`manage.py run_sandbox_psp` serves it on its own port (8001 by default), the way a
real PSP lives on its own host. It shares the database only for convenience.
"""

from .settings import *  # noqa: F403

ROOT_URLCONF = "payouts.sandbox.urls"

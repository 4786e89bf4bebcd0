"""Run the sandbox PSP as its own HTTP service, with its webhook sender.

    DJANGO_SETTINGS_MODULE=config.sandbox_settings python manage.py run_sandbox_psp --port 8001

Serves the merchant API, the hosted checkout page and settlement reports, and sends
queued webhooks to merchants every half second, retrying failures with backoff.
"""

import logging
import socket
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import WSGIServer, run
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from payouts.sandbox import engine

log = logging.getLogger("sandbox_psp")


class NoDelayWSGIServer(WSGIServer):
    """Sends each answer at once on a kept-alive connection (TCP_NODELAY), as a PSP's web
    servers do. Without it the answer's body, written after its headers, waits for the
    client's delayed acknowledgement: ~40 ms per call once clients keep connections open."""

    def get_request(self):
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class Command(BaseCommand):
    help = "Serve the sandbox PSP (checkout, payouts, webhooks) on its own port."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)

    def handle(self, *args, host: str, port: int, **options):
        if settings.ROOT_URLCONF != "payouts.sandbox.urls":
            raise CommandError("Run with DJANGO_SETTINGS_MODULE=config.sandbox_settings")
        threading.Thread(target=self._deliver_forever, name="webhook-sender", daemon=True).start()
        self.stdout.write(f"Sandbox PSP on http://{host}:{port}/ (checkout pages under /checkout/)")
        run(host, port, get_wsgi_application(), threading=True, server_cls=NoDelayWSGIServer)

    def _deliver_forever(self):
        while True:
            try:
                close_old_connections()
                engine.deliver_due()
            except Exception:  # noqa: BLE001 - the sender must outlive a bad moment
                log.exception("webhook sender")
            time.sleep(0.5)

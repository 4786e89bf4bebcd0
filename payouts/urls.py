from django.urls import path

from .api import PspWebhookView

urlpatterns = [
    path("webhooks/psp/<slug:provider>/", PspWebhookView.as_view(), name="psp-webhook"),
]

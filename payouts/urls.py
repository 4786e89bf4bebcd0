from django.urls import path

from .api.deposits import DepositCreateView
from .api.webhooks import PspWebhookView

urlpatterns = [
    path("deposits/", DepositCreateView.as_view(), name="deposits"),
    path("webhooks/psp/<slug:provider>/", PspWebhookView.as_view(), name="psp-webhook"),
]

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from payouts import urls as payout_urls
from wallet.api import urls as player_api
from wallet.api.operator import urls as operator_api

handler404 = "wallet.api.problems.not_found"
handler500 = "wallet.api.problems.server_error"

api_v1 = [
    path("", include(player_api.urlpatterns)),
    path("", include(payout_urls.urlpatterns)),
    path("", include(operator_api.urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="api-redoc"),
]

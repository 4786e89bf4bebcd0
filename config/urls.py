from csp.decorators import csp_exempt
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from backoffice.api import urls as operator_api
from backoffice.console import urls as console
from core.api import urls as problem_types
from games import urls as game_urls
from payouts import urls as payout_urls
from reconciliation import urls as reconciliation_urls
from wallet.api import urls as player_api

# The Django admin is the platform team's tool (every tenant); operators use the console.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser
admin.site.site_header = "Casino payments · platform admin"

handler404 = "core.api.problems.not_found"
handler500 = "core.api.problems.server_error"

api_v1 = [
    path("", include(player_api.urlpatterns)),
    path("", include(payout_urls.urlpatterns)),
    path("", include(game_urls.urlpatterns)),
    path("", include(operator_api.urlpatterns)),
    path("", include(reconciliation_urls.urlpatterns)),
    path("", include(problem_types.urlpatterns)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("admin/", admin.site.urls),
    # The console's pages: the backoffice's, and those a feature registers itself.
    path(
        "console/",
        include(
            (
                console.urlpatterns + reconciliation_urls.console_urlpatterns + game_urls.console_urlpatterns,
                "console",
            )
        ),
    ),
    path("play/", include("wallet.player_web.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include((api_v1, "api"))),
    # The API docs pages run the Swagger UI / ReDoc bundles, which need inline scripts.
    path("api/docs/", csp_exempt()(SpectacularSwaggerView.as_view(url_name="api:schema")), name="api-docs"),
    path("api/redoc/", csp_exempt()(SpectacularRedocView.as_view(url_name="api:schema")), name="api-redoc"),
]

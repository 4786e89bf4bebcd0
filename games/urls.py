from django.urls import path

from . import console
from .api import provider, views

# Under /api/v1/ (namespace "api"): the player's endpoints, then the providers' calls.
urlpatterns = [
    path("games/", views.GameListView.as_view(), name="games"),
    path("games/sessions/", views.GameSessionCreateView.as_view(), name="game-sessions"),
    path("games/<str:provider>/balance/", provider.GameBalanceView.as_view(), name="game-balance"),
    path("games/<str:provider>/bet/", provider.GameBetView.as_view(), name="game-bet"),
    path("games/<str:provider>/win/", provider.GameWinView.as_view(), name="game-win"),
    path("games/<str:provider>/rollback/", provider.GameRollbackView.as_view(), name="game-rollback"),
]

# Console pages, under /console/ (namespace "console").
console_urlpatterns = [
    path("game-providers/", console.game_providers, name="game-providers"),
    path("game-providers/<str:account_id>/rotate/", console.rotate_secret, name="game-provider-rotate"),
    path(
        "game-providers/<str:account_id>/secrets/<str:secret_id>/retire/",
        console.retire_secret,
        name="game-provider-retire",
    ),
    path("game-providers/<str:account_id>/deactivate/", console.deactivate, name="game-provider-deactivate"),
]

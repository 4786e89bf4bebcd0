from django.urls import path

from . import views

app_name = "play"

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("login/", views.PlayerLoginView.as_view(), name="login"),
    path("logout/", views.PlayerLogoutView.as_view(), name="logout"),
]

"""Console sign-in: password (locked out by django-axes after repeated failures), then TOTP."""

import base64

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from core import refusals
from core.actors import Actor
from core.audit import record_in_own_transaction
from core.middleware import client_ip
from tenants.operators import scope_of

from .signals import SIGN_IN_REFUSED


class LoginView(auth_views.LoginView):
    """The password step. An address past its failed sign-ins for the minute gets the page
    with a "wait" message and 429, decided from Redis before any password is checked."""

    template_name = "console/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = refusals.throttled(SIGN_IN_REFUSED, client_ip(request))
        if wait is not None:
            return self._too_many_attempts(wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        wait = getattr(self.request, "sign_in_throttled", None)  # this failure went past the limit
        if wait is not None:
            return self._too_many_attempts(wait)
        return super().form_invalid(form)

    def _too_many_attempts(self, wait: int):
        # An unbound form: rendering a bound one would validate it, which checks the password.
        context = self.get_context_data(form=self.get_form_class()(request=self.request), throttled=True)
        response = self.render_to_response(context, status=429)
        response["Retry-After"] = str(wait)
        return response


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next_url(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/console/"


@never_cache
@login_required(login_url="console:login")
def verify_otp(request):
    """Second step: the TOTP code of a confirmed device, or enrolment if there is none."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("console:otp-setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            return redirect(_next_url(request))
        _audit(request.user, "operator.second_factor_failed")
        form.add_error("token", _("That code is not right (or too many tries: wait a little)."))
    return render(request, "console/otp.html", {"form": form, "next": _next_url(request)})


@never_cache  # the page shows the secret key
@login_required(login_url="console:login")
def setup_otp(request):
    """Enrol an authenticator app: scan the QR code, confirm with one code."""
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("console:otp")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            _audit(request.user, "operator.second_factor_enrolled")
            return redirect("console:queue")
        form.add_error("token", _("That code is not right; check the time on your phone."))
    svg = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage).to_string(encoding="unicode")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(request, "console/otp_setup.html", {"form": form, "qr_svg": svg, "secret": secret})


def _audit(user, action: str) -> None:
    scope = scope_of(user)
    record_in_own_transaction(
        tenant=scope.tenant if scope and scope.tenant else None, actor=Actor.operator(user), action=action, target=user
    )


class LogoutView(auth_views.LogoutView):
    next_page = "console:login"

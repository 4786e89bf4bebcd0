"""The player wallet page: a small browser client of the player API.

The server renders the page and signs the player in; everything else (balances,
deposits, withdrawals, history, receipts) the page's JavaScript does through the
public player API, as a casino's own front end would, with a token bound to the
browser session (players.session_tokens): issued at sign-in, deleted at sign-out.
No page here is kept in the browser's cache (the token and the balances are on it).
"""

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from core.money import CURRENCY_EXPONENTS
from players.session_tokens import issue_session_token, revoke_session_tokens, session_token


@method_decorator(never_cache, name="dispatch")
class PlayerLoginView(auth_views.LoginView):
    template_name = "play/login.html"
    redirect_authenticated_user = True
    next_page = "play:wallet"

    def get_default_redirect_url(self):
        return reverse("play:wallet")

    def form_valid(self, form):
        response = super().form_valid(form)  # signs in: the session has its final key now
        if getattr(self.request.user, "player", None) is not None:
            issue_session_token(self.request)
        return response


@method_decorator(never_cache, name="dispatch")
class PlayerLogoutView(auth_views.LogoutView):
    next_page = "play:login"

    def post(self, request, *args, **kwargs):
        revoke_session_tokens(request)  # before the session goes (which would take them along anyway)
        return super().post(request, *args, **kwargs)


def ui_messages() -> dict:
    """Every text the page's script shows, in the player's language, keyed by error_code."""
    return {
        "TENANT_PAYMENT_LIMIT_EXCEEDED": _(
            "Daily %(action)s limit reached: the limit is %(limit)s %(currency)s, you used %(used)s today and asked "
            "for %(requested)s."
        ),
        "INSUFFICIENT_FUNDS": _("Not enough money: %(available)s %(currency)s available, you asked for %(requested)s."),
        "ILLEGAL_TRANSACTION_STATE_TRANSITION": _("This %(tx_type)s can no longer be changed: it is %(from_state)s."),
        "VALIDATION_ERROR": _("Please check the amount and currency."),
        "AMOUNT_TOO_SMALL": _("The smallest amount is %(min_amount)s %(currency)s."),
        "AMOUNT_TOO_LARGE": _("The largest amount is %(max_amount)s %(currency)s."),
        "TENANT_SUSPENDED": _("Payments are paused for this casino. Please try again later."),
        "RATE_LIMITED": _("Too many requests. Please wait a moment."),
        "PROVIDER_UNAVAILABLE": _("The payment provider is not reachable. Your request is kept; please try again."),
        "IDEMPOTENCY_KEY_REUSED": _("This request was already sent with other details. Please start again."),
        "AUTHENTICATION_REQUIRED": _("Please sign in again."),
        "NETWORK": _("Connection problem. We tried again and could not reach the casino; nothing was done twice."),
        "UNKNOWN": _("Something went wrong. Please try again."),
        "deposit": _("deposit"),
        "withdraw": _("withdrawal"),
        "withdrawal": _("withdrawal"),
        "requested": _("awaiting review"),
        "approved": _("approved"),
        "payout_pending": _("being paid out"),
        "payout_failed": _("payout failed"),
        "paid": _("paid"),
        "rejected": _("rejected"),
        "canceled": _("canceled"),
        "created": _("created"),
        "pending_provider": _("waiting for payment"),
        "completed": _("completed"),
        "failed": _("failed"),
        "withdrawal_requested": _("Withdrawal of %(amount)s %(currency)s requested (%(reference)s)."),
        "withdrawal_canceled": _("Withdrawal %(reference)s canceled; the money is available again."),
        "deposit_started": _("Deposit %(reference)s opened; continue at the payment page."),
        "cancel": _("Cancel"),
        "receipt": _("Receipt"),
        "more": _("Show more"),
        "nothing": _("No transactions yet."),
        "balance_after": _("Balance after: %(available)s available, %(held)s held"),
    }


@never_cache
@login_required(login_url="play:login")
def wallet(request):
    player = getattr(request.user, "player", None)
    if player is None:
        raise PermissionDenied("This page is for players.")
    currencies = [c for c in player.tenant.allowed_currencies if c in CURRENCY_EXPONENTS]
    return render(
        request,
        "play/wallet.html",
        {
            "player": player,
            "token": session_token(request),
            "currencies": currencies,
            "ui_messages": ui_messages(),
            "exponents": {c: CURRENCY_EXPONENTS[c] for c in currencies},
        },
    )

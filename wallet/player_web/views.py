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
        # Player protection: refusals, then the responsible gambling section.
        "PLAYER_EXCLUDED": _(
            "No deposits or play during your %(kind)s, until %(ends_at)s. You can still withdraw your money."
        ),
        "PLAYER_EXCLUDED_FOR_GOOD": _(
            "No deposits or play: your %(kind)s has no end date. You can still withdraw your money."
        ),
        "PLAYER_LIMIT_EXCEEDED": _(
            "This would go over your own %(kind)s limit of %(limit)s %(currency)s per %(period)s: %(used)s used, "
            "%(requested)s asked for."
        ),
        "KYC_REQUIRED": _("Please verify your identity first; the casino needs it before you withdraw."),
        "KYC_REQUIRED_DEPOSIT": _(
            "Your deposits reached %(threshold)s %(currency)s: please verify your identity before you deposit more."
        ),
        "EXCLUSION_WOULD_SHORTEN": _(
            "Your %(kind)s already runs until %(ends_at)s. It cannot be shortened; a new one must end later."
        ),
        "EXCLUSION_WOULD_SHORTEN_FOR_GOOD": _("Your %(kind)s has no end date; it cannot be shortened."),
        "WITHDRAWAL_CANCEL_DISABLED": _("This casino does not allow a withdrawal to be canceled once it is requested."),
        "DAYS_OUT_OF_RANGE": _("Please choose a number of days within the range shown."),
        "loss": _("loss"),
        "timeout": _("break"),
        "self_exclusion": _("self-exclusion"),
        "operator_block": _("block by the casino"),
        "register": _("listing in the national exclusion register"),
        "limit_deposit": _("deposit limit"),
        "limit_loss": _("loss limit"),
        "period_day": _("24 hours"),
        "period_week": _("7 days"),
        "period_month": _("30 days"),
        "no_limits": _("You have set no limits."),
        "no_change": _("none"),
        "pending_raise": _("%(amount)s %(currency)s from %(effective_at)s"),
        "pending_removal": _("no limit from %(effective_at)s"),
        "limit_set": _("Your %(kind)s of %(amount)s %(currency)s per %(period)s applies now."),
        "limit_raise_pending": _(
            "Your %(kind)s per %(period)s becomes %(amount)s %(currency)s on %(effective_at)s; until then "
            "%(current)s %(currency)s applies."
        ),
        "limit_removal_pending": _(
            "Your %(kind)s per %(period)s will be removed on %(effective_at)s; until then %(current)s %(currency)s "
            "applies."
        ),
        "limit_none": _("You have no %(kind)s per %(period)s in %(currency)s."),
        "status_timeout": _("You are taking a break until %(ends_at)s: no deposits or play. You can still withdraw."),
        "status_self_exclusion": _(
            "You have excluded yourself until %(ends_at)s: no deposits or play. You can still withdraw."
        ),
        "status_self_exclusion_for_good": _(
            "You have excluded yourself permanently: no deposits or play. You can still withdraw."
        ),
        "status_operator_block": _(
            "The casino has stopped deposits and play on your account until %(ends_at)s. You can still withdraw."
        ),
        "status_operator_block_for_good": _(
            "The casino has stopped deposits and play on your account until further notice. You can still withdraw."
        ),
        "confirm_timeout": _("Take a break until %(ends_at)s?"),
        "confirm_self_exclusion": _("Exclude yourself until %(ends_at)s?"),
        "confirm_self_exclusion_for_good": _("Exclude yourself permanently?"),
        "effect_until": _("You cannot deposit or play until %(ends_at)s."),
        "effect_for_good": _("You can never deposit or play here again."),
        "effect_withdrawals": _("You can still withdraw your money."),
        "effect_final": _("It cannot be undone or shortened, not even by the casino's support."),
        # Payment methods and where withdrawals go.
        "method_card": _("Card"),
        "method_bank_account": _("Bank account"),
        "method_ewallet": _("E-wallet"),
        "yes": _("yes"),
        "no": _("no"),
        "no_methods": _("No payment method yet: it appears once you have paid with it."),
        "no_payouts_to": _("%(label)s (cannot receive payouts)"),
        "CLOSED_LOOP_VIOLATION": _(
            "Money goes back to the methods you deposited with, up to what each brought in. %(label)s can take at "
            "most part of this now; you can withdraw: %(allowed)s."
        ),
        "CLOSED_LOOP_VIOLATION_NOT_CAPABLE": _(
            "%(label)s cannot receive payouts. Choose another method; you can withdraw: %(allowed)s."
        ),
        "CLOSED_LOOP_VIOLATION_NOWHERE": _(
            "None of your payment methods can receive payouts. Deposit once with a card, bank account or e-wallet "
            "that can, then withdraw to it."
        ),
        "PLAYER_ACCOUNT_RESTRICTED": _(
            "Your account is restricted: a payment of yours was charged back and you owe the casino. Your next "
            "deposits repay it first; until then you cannot withdraw or play."
        ),
        "restricted": _(
            "You owe %(owed)s after a chargeback. Your next deposits repay it first; until then you cannot withdraw "
            "or play."
        ),
        "charged_back": _("charged back"),
        "returned": _("returned by the bank: the money is available again"),
        "chargeback_reversed": _("chargeback reversed"),
        "charged_back_again": _("charged back again"),
        "receipt_method_deposit": _("Paid with %(label)s"),
        "receipt_method_withdrawal": _("Paid out to %(label)s"),
        # Games: the list from GET games/, a session from POST games/sessions/, then the game's launch URL.
        "play": _("Play"),
        "play_game": _("Play %(name)s"),
        "no_games": _("No games yet."),
        "game_opening": _("Opening %(name)s…"),
        "NOT_FOUND": _("This game is not available at the moment."),
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

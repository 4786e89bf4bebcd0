"""The console's game providers page (admins): accounts, their signing secrets, rotation, deactivation.

Every act goes through games.providers' audited services. A new secret is shown once, on
the page the act redirects to (kept server-side in the session until then), and never
again: the list shows each secret's prefix only. Rotation adds a secret and keeps the old
ones working until an admin retires them, so the provider can switch without a refused call.
"""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import form_tokens
from core.actors import Actor
from core.errors import DomainError, describe
from core.ids import whole_number
from games import providers, selectors
from games.sessions import api_path
from tenants.access import operator_view
from tenants.operators import ADMIN

PURPOSE = "game_provider.create"
_NEW_SECRET = "console_new_game_secret"  # noqa: S105 - a session key: the secret just made, for the one page that shows it


class ProviderAccountForm(forms.Form):
    slug = forms.SlugField(
        label=gettext_lazy("Name in the API"),
        max_length=64,
        help_text=gettext_lazy("Lower-case letters, digits and hyphens; the provider calls /api/v1/games/<name>/."),
    )
    name = forms.CharField(label=gettext_lazy("Display name"), max_length=120)


def _account(request, account_id):
    pk = whole_number(str(account_id))
    tenant_id = None if request.operator.is_platform else request.operator.tenant.pk
    account = selectors.provider_accounts(tenant_id).filter(pk=pk).first() if pk is not None else None
    if account is None:
        raise Http404  # another casino's account, or none: the same answer
    return account


def _show_once(request, account, secret: str) -> None:
    request.session[_NEW_SECRET] = {"account": account.pk, "slug": account.slug, "secret": secret}


@operator_view(role=ADMIN)
def game_providers(request):
    tenant = request.operator.tenant
    form = ProviderAccountForm(request.POST or None)
    if request.method == "POST" and tenant is None:
        messages.error(request, _("Platform staff see every casino's accounts; a casino's admin makes them."))
        return redirect("console:game-providers")
    if request.method == "POST" and form.is_valid():
        once = request.POST.get("form_token", "")
        with transaction.atomic():
            if not form_tokens.spend(request.user, once, PURPOSE):
                messages.warning(request, _("This form was already submitted; it was not done twice."))
                return redirect("console:game-providers")
            try:
                account, secret = providers.create_provider_account(
                    tenant, slug=form.cleaned_data["slug"], name=form.cleaned_data["name"], actor=_actor(request)
                )
            except DomainError as error:
                form_tokens.release(request.user, once, PURPOSE)
                messages.error(request, describe(error))
                return redirect("console:game-providers")
        _show_once(request, account, secret)
        messages.success(request, _("Game provider account “%(slug)s” made.") % {"slug": account.slug})
        return redirect("console:game-providers")
    tenant_id = None if tenant is None else tenant.pk
    return render(
        request,
        "console/game_providers.html",
        {
            "form": form,
            "form_token": form_tokens.issue(request.user, PURPOSE),
            "accounts": selectors.provider_accounts(tenant_id),
            "new_secret": request.session.pop(_NEW_SECRET, None),
            "api_base": request.build_absolute_uri(api_path("")).rstrip("/"),
            "may_create": tenant is not None,
        },
    )


@require_POST
@operator_view(role=ADMIN)
def rotate_secret(request, account_id):
    account = _account(request, account_id)
    try:
        _row, secret = providers.rotate_secret(account, actor=_actor(request))
    except DomainError as error:
        messages.error(request, describe(error))
    else:
        _show_once(request, account, secret)
        messages.success(
            request,
            _("A new secret for “%(slug)s”: the old ones keep working until you retire them.") % {"slug": account.slug},
        )
    return redirect("console:game-providers")


@require_POST
@operator_view(role=ADMIN)
def retire_secret(request, account_id, secret_id):
    account = _account(request, account_id)
    pk = whole_number(str(secret_id))
    try:
        secret = providers.retire_secret(account, pk if pk is not None else -1, actor=_actor(request))
    except DomainError as error:
        messages.error(request, describe(error))
    else:
        messages.success(
            request, _("Secret %(prefix)s… retired: calls signed with it are refused.") % {"prefix": secret.prefix}
        )
    return redirect("console:game-providers")


@require_POST
@operator_view(role=ADMIN)
def deactivate(request, account_id):
    account = _account(request, account_id)
    reason = (request.POST.get("reason") or "").strip()
    if not reason:
        messages.error(request, _("Say why the account is deactivated."))
        return redirect("console:game-providers")
    providers.deactivate_provider_account(account, actor=_actor(request), reason=reason[:500])
    messages.success(
        request,
        _("“%(slug)s” deactivated: its calls are refused and its games start no sessions.") % {"slug": account.slug},
    )
    return redirect("console:game-providers")


def _actor(request) -> Actor:
    return Actor.operator(request.user)

"""The API tokens page: an operator makes, lists and revokes their own operator API tokens.

Behind the full sign-in: operator_view sends a session without its second factor (where
one is required) to the second-factor page first, for the POSTs too. A new key is shown
once, on the page the creation redirects to (kept server-side in the session until then),
and never again; the database holds only its digest. Every operator role may hold
tokens; the operator API applies their role, read at every request.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core import form_tokens
from core.actors import Actor
from core.errors import DomainError, NotFound, describe
from tenants.access import operator_view
from tenants.operator_tokens import (
    NAME_MAX_LENGTH,
    create_operator_token,
    operator_tokens,
    revoke_operator_token,
)

PURPOSE = "operator_token.create"
_NEW_KEY = "console_new_api_token"  # session key: the key just made, for the one page that shows it


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=NAME_MAX_LENGTH,
        help_text=gettext_lazy("What the token is for, e.g. a reporting script."),
    )


@operator_view()
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        once = request.POST.get("form_token", "")
        with transaction.atomic():
            if not form_tokens.spend(request.user, once, PURPOSE):
                messages.warning(request, _("This form was already submitted; it was not done twice."))
                return redirect("console:api-tokens")
            try:
                token, key = create_operator_token(
                    user=request.user, name=form.cleaned_data["name"], actor=Actor.operator(request.user)
                )
            except DomainError as error:
                form_tokens.release(request.user, once, PURPOSE)
                messages.error(request, describe(error))
                return redirect("console:api-tokens")
        request.session[_NEW_KEY] = {"id": token.pk, "key": key}
        messages.success(request, _("API token “%(name)s” made.") % {"name": token.name})
        return redirect("console:api-tokens")
    return render(
        request,
        "console/api_tokens.html",
        {
            "form": form,
            "form_token": form_tokens.issue(request.user, PURPOSE),
            "tokens": operator_tokens(request.user),
            "new_key": request.session.pop(_NEW_KEY, None),
            "now": timezone.now(),
            "days": settings.OPERATOR_TOKEN_DAYS,
        },
    )


@require_POST
@operator_view()
def revoke_api_token(request, token_id: int):
    try:
        token = revoke_operator_token(user=request.user, token_id=token_id, actor=Actor.operator(request.user))
    except NotFound:
        raise Http404 from None  # someone else's token, or one already revoked: the same answer
    messages.success(request, _("API token “%(name)s” revoked: it opens nothing any more.") % {"name": token.name})
    return redirect("console:api-tokens")

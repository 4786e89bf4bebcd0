"""Who may open the console: logged-in operators, verified with TOTP where it is required."""

from datetime import UTC
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from wallet.operators import scope_of


def needs_second_factor(user) -> bool:
    return settings.OPERATOR_2FA_REQUIRED and not user.is_verified()


def operator_view(role: str | None = None):
    """Require an operator (and the role, if given); puts the OperatorScope on request.operator."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if needs_second_factor(request.user):
                return redirect("console:otp")
            scope = scope_of(request.user)
            if scope is None:
                raise PermissionDenied("The console is for casino operators.")
            if role is not None and not scope.can(role):
                raise PermissionDenied(f"Your role ({scope.role}) may not do this.")
            request.operator = scope
            # Times in the casino's zone, like the day filters and the daily limits; platform staff read UTC.
            with timezone.override(scope.tenant.zone if scope.tenant else UTC):
                response = view(request, *args, **kwargs)
            # Players' names and money: not kept in the browser's cache for the back button after sign-out.
            add_never_cache_headers(response)
            return response

        return wrapper

    return decorator

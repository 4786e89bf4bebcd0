"""The gate of every operator-facing page and endpoint: who is an operator, with which role.

The console pages (`operator_view`) and the operator API (`OperatorAPIView`) of the
backoffice, and the pages and endpoints a feature registers itself (reconciliation),
pass through here. Console sessions count only once the second factor is verified
where it is required.
"""

from datetime import UTC
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from core.actors import Actor
from core.api.throttling import PlayerRateThrottle
from tenants.auth import OperatorTokenAuthentication
from tenants.operators import scope_of

# The error statuses every operator read can answer with (for the OpenAPI schema).
OPERATOR_READ_ERRORS = (400, 401, 403, 404, 405, 406, 429, 500, 503)


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


class IsOperator(BasePermission):
    message = "This API is for casino operators."

    def has_permission(self, request, view):
        request.operator = scope_of(request.user)
        if request.operator is None:
            return False
        if isinstance(request.successful_authenticator, SessionAuthentication) and needs_second_factor(request.user):
            # A console session counts only once the sign-in is complete (password and TOTP).
            self.message = "Finish signing in with your second factor first."
            return False
        return True


class OperatorAPIView(APIView):
    """Base of the operator API: an operator's API token or console session, an operator scope, the rate limit."""

    authentication_classes = [OperatorTokenAuthentication, SessionAuthentication]
    permission_classes = [IsOperator]
    throttle_classes = [PlayerRateThrottle]

    @property
    def scope(self):
        return self.request.operator

    def actor(self) -> Actor:
        return Actor.operator(self.request.user)

    def idempotency_scope(self, request, **kwargs) -> tuple[int, int]:
        """Operator idempotency keys are scoped to the operator's tenant (0 for platform users)."""
        tenant_id = request.operator.tenant.pk if request.operator.tenant else 0
        return tenant_id, request.user.pk

"""Language selection for the browser console only; the API speaks English."""

from django.middleware.locale import LocaleMiddleware


class ConsoleLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware, skipped for /api/: machine clients read error_code, not prose."""

    def process_request(self, request):
        if not request.path.startswith("/api/"):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path.startswith("/api/"):
            return response
        return super().process_response(request, response)

"""The API's only parser: JSON read by core.strict_json, so hostile input is a 400, never a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core import strict_json


class StrictJSONParser(JSONParser):
    """JSON bodies, at most 32 levels deep, without NUL characters or lone surrogates (keys too).

    The body is already bounded by RequestBodyLimitMiddleware, so reading it whole is safe.
    A refusal is ParseError, which the problem handler answers 400 VALIDATION_ERROR with
    the reason.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return strict_json.loads(stream.read())
        except strict_json.UnsafeJSON as error:
            raise ParseError(str(error)) from None

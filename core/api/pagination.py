"""Paging of API lists: keyset cursors for the transaction history (opaque, stable while rows
are added), and numbered pages for the operator's lists ({count, page, pages, results})."""

import base64
import math
import uuid
from datetime import datetime

from rest_framework import serializers


def encode_cursor(created_at: datetime, tx_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{tx_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, tx_id = raw.split("|")
        moment = datetime.fromisoformat(created_at)
        if moment.tzinfo is None:
            raise ValueError
        return moment, uuid.UUID(tx_id)
    except (ValueError, UnicodeDecodeError):
        raise serializers.ValidationError({"cursor": ["Not a cursor this API issued."]}) from None


# The schema of a numbered page (numbered_page); each list's subclass names its `results`. A
# comment, not a docstring: drf-spectacular would print it as every page's description.
class NumberedPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()


def numbered_page(rows, page: int, size: int, serializer) -> dict:
    """Page `page` (from 1) of `size` rows of the queryset `rows`, each through `serializer`."""
    total = rows.count()
    return {
        "count": total,
        "page": page,
        "pages": max(1, math.ceil(total / size)),
        "results": serializer(rows[(page - 1) * size : page * size], many=True).data,
    }

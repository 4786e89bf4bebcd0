"""A schemathesis check of our own: no response may carry another tenant's data.

Loaded through SCHEMATHESIS_HOOKS; the markers (ids and references of the other
tenant's objects) come in FOREIGN_TENANT_MARKERS as a JSON list.
"""

import json
import os

import schemathesis

MARKERS = json.loads(os.environ.get("FOREIGN_TENANT_MARKERS", "[]"))


@schemathesis.check
def no_foreign_tenant_data(ctx, response, case):
    """Fail if a response names an object of a tenant the caller does not belong to."""
    text = response.text or ""
    leaked = [marker for marker in MARKERS if marker in text]
    if leaked:
        raise AssertionError(f"Response to {case.method} {case.path} contains another tenant's data: {leaked[:3]}")

"""Day filters that end on the last date there is (9999-12-31) mean "no end": every list and report
answers, none fails on the day after it (it was a 500 on each)."""

import pytest

from wallet.tests.api.helpers import client_for
from wallet.tests.factories import card, deposit_with

from .helpers import AUDIT, QUEUE

pytestmark = pytest.mark.django_db

LAST = "9999-12-31"


@pytest.mark.parametrize(
    "url",
    [
        f"{QUEUE}?created_before={LAST}",
        f"{AUDIT}?day_until={LAST}",
        f"/console/disputes/?day_until={LAST}",
        f"/console/reports/ggr/?from=9999-12-01&to={LAST}",
    ],
)
def test_the_console_reads_until_the_last_date(console, viewer, url):
    assert console(viewer).get(url).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"disputed_until": LAST},
        {"disputed_from": "0001-01-01", "disputed_until": LAST},
    ],
)
def test_the_chargebacks_api_reads_until_the_last_date(viewer, player, query):
    from wallet.services import charge_back_deposit
    from wallet.tests.builders import PSP

    disputed = deposit_with(player, 10_00, method=card())
    charge_back_deposit(disputed, actor=PSP)
    response = client_for(viewer).get("/api/v1/admin/chargebacks/", query)
    assert response.status_code == 200, response.content
    assert [row["reference"] for row in response.json()["results"]] == [disputed.reference]


def test_the_ggr_api_reads_until_the_last_date(viewer):
    response = client_for(viewer).get("/api/v1/admin/reports/ggr/", {"from": "9999-12-01", "to": LAST})
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []

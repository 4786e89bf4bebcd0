"""Shared fixtures of the reconciliation API and console tests: a casino with corrupted books,
a run over them, a held run lock. Operators by role come from the root conftest."""

import threading

import pytest
from django.db import connection

from reconciliation.models import ReconciliationRun
from reconciliation.services import scope_lock
from tenants.tests.factories import TenantFactory
from wallet.tests.api.conftest import _delete_throttle_keys

from .books import Books, corrupted_books
from .helpers import reconcile


@pytest.fixture
def tenant():
    return TenantFactory(allowed_currencies=["EUR", "USD", "JPY"])


@pytest.fixture(autouse=True)
def _fresh_throttle_history():
    _delete_throttle_keys()
    yield
    _delete_throttle_keys()


@pytest.fixture
def books(tenant) -> Books:
    return corrupted_books(tenant)


@pytest.fixture
def run(books, tenant) -> ReconciliationRun:
    """A run of the casino's books (from the shell), with their three findings."""
    return reconcile(tenant)


@pytest.fixture
def held_lock():
    """hold(tenant_id) keeps a run's scope lock in another thread (its own database session) until the test ends."""
    release, threads = threading.Event(), []

    def hold(tenant_id):
        taken, failure = threading.Event(), []

        def holder():
            try:
                with scope_lock(tenant_id):
                    taken.set()
                    release.wait(30)
            except Exception as error:  # reported to the test below
                failure.append(error)
                taken.set()
            finally:
                connection.close()

        thread = threading.Thread(target=holder, daemon=True)
        thread.start()
        threads.append(thread)
        assert taken.wait(10) and not failure, failure

    yield hold
    release.set()
    for thread in threads:
        thread.join(10)

"""End-to-end simulation of the payments back office: `python -m simulation --seed N`.

A seeded, replayable run against the live product (its web server, a real Celery worker,
the sandbox PSP service, PostgreSQL, Redis) with concurrent clients and injected
faults, followed by SQL invariant checks. See docs/simulation.md.
"""

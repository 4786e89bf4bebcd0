"""A Django app that breaks the unit of work's fence on purpose (tests/test_web_server.py).

It connects a pre_save receiver to Wallet, a model the unit of work writes without save():
the start-up check (core.E002) must then refuse to start the web server.
"""

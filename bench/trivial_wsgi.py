"""A WSGI application that does nothing: what a web server costs per request on its own.

bench/http_servers.py serves it with each candidate server, so the server's share of a
request is measured apart from Django's and the database's.
"""

BODY = b'{"ok":true}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("201 Created", HEADERS)
    return [BODY]

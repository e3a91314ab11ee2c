"""A stand-in for Keystone's token exchange, for the browser suite.

Horizon reads servers through novaclient, which trades the user's token
for a scoped one at the identity endpoint before it calls Nova (whose
URL Horizon then overrides from its own catalog). The sandbox has no
Keystone, so this answers that exchange, and only that: version
discovery and ``POST /v3/auth/tokens``, with bodies built by
keystoneauth1's own fixtures. It checks nothing; the sandbox's Watcher
and Nova do not check tokens either.
"""

from __future__ import annotations

import json
import threading
from wsgiref import simple_server

from keystoneauth1 import fixture

TOKEN = 'sandbox-admin-token'


def _app(environ, start_response):
    base = 'http://%s:%s/identity' % (environ['SERVER_NAME'],
                                      environ['SERVER_PORT'])
    path = environ.get('PATH_INFO', '').rstrip('/')
    if environ['REQUEST_METHOD'] == 'POST' and path.endswith(
            '/v3/auth/tokens'):
        token = fixture.V3Token(user_id='1', user_name='admin',
                                project_id='1', project_name='admin',
                                project_domain_id='default',
                                user_domain_id='default')
        token.add_role(name='admin')
        status, headers, body = '201 Created', [
            ('X-Subject-Token', TOKEN)], token
    elif path.endswith('/v3') or path.endswith('/identity'):
        status, headers, body = '200 OK', [], {
            'version': fixture.V3Discovery(base + '/v3')}
    else:
        status, headers, body = '404 Not Found', [], {}
    payload = json.dumps(body).encode()
    start_response(status, headers + [
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(payload)))])
    return [payload]


class _Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class Identity:
    """``with Identity() as identity: identity.url`` (``.../identity/v3``)."""

    def __enter__(self):
        self._server = simple_server.make_server(
            '127.0.0.1', 0, _app, handler_class=_Quiet)
        threading.Thread(target=self._server.serve_forever,
                         daemon=True).start()
        self.url = 'http://127.0.0.1:%d/identity/v3' % (
            self._server.server_address[1])
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

"""``watcher-maintenance sandbox serve``: the sandbox on real sockets.

The sandbox (``services.Sandbox``: Watcher's real API, decision engine
and applier in this process, the emulated Nova and Placement) is served
over HTTP on 127.0.0.1 until interrupted, keystone-less, so that a
person, or another program, can use it from a second terminal with
``openstack optimize ...``.

* Watcher's API is a second instance of Watcher's own WSGI application,
  over the same configuration and database as the sandbox's services.
  Every caller is the admin: requests without identity headers get the
  ones the sandbox's own client sends.
* The emulated Nova sends no notifications, which keep Watcher's model
  fresh in a real cloud; so each new audit gets a model rebuilt from
  Nova, as the sandbox's tests do.
* Nova and Placement are the emulators' own WSGI applications, so a
  program reading Nova over HTTP sees exactly what Watcher sees.

In Python::

    with ServedSandbox(topology) as served:
        served.watcher_url, served.nova_url, served.env   # OS_* variables
"""

from __future__ import annotations

import signal
import socketserver
import sys
import threading
from wsgiref import simple_server

from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.sandbox import services

ADMIN_HEADERS = {
    'HTTP_X_USER_ID': 'sandbox-admin',
    'HTTP_X_PROJECT_ID': 'sandbox-admin',
    'HTTP_X_ROLES': 'admin',
}
READY = '# sandbox ready'


def sandbox_api(app):
    """WSGI middleware: a request without an identity is the admin's, and
    a new audit plans on a model rebuilt from Nova."""
    def wrapped(environ, start_response):
        for key, value in ADMIN_HEADERS.items():
            environ.setdefault(key, value)
        if environ.get('REQUEST_METHOD') == 'POST' and \
                environ.get('PATH_INFO', '').rstrip('/').endswith('/audits'):
            services.SandboxNovaFixture.invalidate_model()
        return app(environ, start_response)
    return wrapped


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    # Watcher's services call Nova while a client waits on the API.
    daemon_threads = True


def _serve(app, host, port):
    server = simple_server.make_server(
        host, port, app, server_class=_ThreadingServer,
        handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class ServedSandbox:
    """The sandbox with its Watcher API and Nova on 127.0.0.1 ports."""

    def __init__(self, topology, host='127.0.0.1', port=0,
                 migration_rate=None):
        self.sandbox = services.Sandbox(topology, cast_as_call=False)
        self.host = host
        self.port = port
        self.migration_rate = migration_rate    # bytes/s, None: at once
        self._servers = []

    def __enter__(self):
        from watcher.api import app as watcher_app

        self.sandbox.setUp()
        try:
            self.sandbox.set_migration_rate(self.migration_rate)
            fixture = self.sandbox.nova_fixture
            watcher = _serve(
                sandbox_api(watcher_app.VersionSelectorApplication()),
                self.host, self.port)
            nova = _serve(fixture.nova_emulator.app, self.host, 0)
            placement = _serve(fixture.placement_emulator.app, self.host, 0)
        except BaseException:
            self.sandbox.cleanUp()
            raise
        self._servers = [watcher, nova, placement]
        self.watcher_url = 'http://%s:%d' % watcher.server_address[:2]
        self.nova_url = 'http://%s:%d' % nova.server_address[:2]
        self.placement_url = 'http://%s:%d' % placement.server_address[:2]
        return self

    def __exit__(self, *exc):
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self.sandbox.cleanUp()

    @property
    def env(self) -> dict:
        """Variables for ``openstack optimize ...`` without Keystone."""
        return {
            'OS_AUTH_TYPE': 'none',
            'OS_ENDPOINT': self.watcher_url,
            'OS_INFRA_OPTIM_API_VERSION': watcher_ops.API_VERSION,
            'OS_COMPUTE_ENDPOINT_OVERRIDE': self.nova_url + '/v2.1',
            'OS_PLACEMENT_ENDPOINT_OVERRIDE': self.placement_url,
        }


def run(args):
    """The ``sandbox serve`` command: serve until SIGINT or SIGTERM."""
    from watcher_maintenance.sandbox import demo
    from watcher_maintenance.sandbox import topology as sandbox_topology

    demo.quiet()
    topology = (sandbox_topology.load(args.topology) if args.topology
                else sandbox_topology.from_dict(demo.BUILTIN,
                                                where='built-in'))
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    rate = (None if args.migration_rate is None
            else args.migration_rate * 1024 * 1024)
    with ServedSandbox(topology, args.host, args.port, rate) as served:
        for name, value in served.env.items():
            print('export %s=%s' % (name, value))
        print('%s: Watcher at %s, Nova at %s; Ctrl-C to stop' % (
            READY, served.watcher_url, served.nova_url))
        sys.stdout.flush()
        stop.wait()
    return 0

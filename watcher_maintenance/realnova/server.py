"""Real Nova and Placement on loopback, for Watcher to drive.

Runs INSIDE the Nova virtualenv (see ``make_venv.sh``), never in
Watcher's: the two cannot share a process (conflicting options on
oslo.config's global CONF, eventlet). Usage::

    .venv-nova/bin/python server.py TOPOLOGY.json [--log FILE]

It starts Nova's own functional harness (a ``ProviderUsageBaseTestCase``:
API, conductor, scheduler, Placement and one nova-compute per host, all
with the fake virt driver, in native-threading mode), builds the cluster
the topology describes through Nova's API (flavors, server groups,
servers on their hosts, their states, availability zones, disabled and
forced-down services), then serves the Nova API and Placement over HTTP
on 127.0.0.1, on free ports. When everything is ready it prints one
line to stdout, ``REALNOVA-READY`` and JSON::

    REALNOVA-READY {"ready": true, "nova": "http://127.0.0.1:P/v2.1",
     "placement": "http://127.0.0.1:Q", "pid": N}

(or ``{"ready": false, "error": "..."}``) and serves until its standard
input closes, then shuts down. The client side is
``watcher_maintenance.realnova.fixture``.

The topology is plain JSON (the client converts the sandbox's
topologies)::

    {"hosts": [{"name": "compute-1", "vcpus": 8, "memory_mb": 16384,
                "disk_gb": 200, "reserved": {"vcpus": 0, "memory_mb": 0,
                "disk_gb": 0}, "allocation_ratio": {"vcpu": 1.0,
                "memory": 1.0, "disk": 1.0}, "availability_zone": "nova",
                "status": "enabled", "disabled_reason": null,
                "state": "up"}],
     "server_groups": [{"name": "db", "policy": "anti-affinity",
                        "rules": {}}],
     "guests": [{"name": "vm-1", "host": "compute-1", "vcpus": 1,
                 "memory_mb": 2048, "disk_gb": 20, "ephemeral_gb": 0,
                 "swap_mb": 0, "state": "active", "server_group": null}]}

Clients need no token: a small middleware gives every request without
one the admin context (as keystonemiddleware would for an admin token).
"""

import os
import sys

# Native threads, not eventlet: must be decided before Nova is imported.
os.environ.setdefault('OS_NOVA_DISABLE_EVENTLET_PATCHING', '1')
# Nova's test base would capture stdout/stderr and apply a test timeout.
for _name in ('OS_STDOUT_CAPTURE', 'OS_STDERR_CAPTURE', 'OS_TEST_TIMEOUT'):
    os.environ[_name] = '0'

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import socketserver  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from wsgiref import simple_server  # noqa: E402

# The ready line goes to the real stdout, on a descriptor of its own;
# anything else that writes to stdout (logging) goes to stderr.
_READY_OUT = os.fdopen(os.dup(1), 'w')
os.dup2(2, 1)
READY_MARK = 'REALNOVA-READY '

from nova.tests.functional import integrated_helpers  # noqa: E402
from nova.virt import fake as fake_virt  # noqa: E402
from placement import deploy as placement_deploy  # noqa: E402

LOOPBACK = '127.0.0.1'
ADMIN_ROLES = 'reader,member,admin'
# Server statuses a guest's requested state ends in.
STATE_ACTIONS = {
    'stopped': ({'os-stop': None}, 'SHUTOFF'),
    'paused': ({'pause': None}, 'PAUSED'),
    'suspended': ({'suspend': None}, 'SUSPENDED'),
    'error': ({'os-resetState': {'state': 'error'}}, 'ERROR'),
}


class TopologyError(ValueError):
    """A topology this bed cannot build."""


# --------------------------------------------------------------------------
# Hosts: one fake-driver class per host, with the host's sizes


MiB = 1024 * 1024
PROGRESS_INTERVAL = 0.1


def report_progress(migration, total, rate):
    """Copy ``total`` bytes at ``rate`` bytes/s, saving Nova's memory
    counters on ``migration`` every ``PROGRESS_INTERVAL`` seconds."""
    started = time.monotonic()
    copied = 0
    while True:
        # Nova's API answers null or a positive count, never 0.
        migration.memory_total = total
        migration.memory_processed = copied or None
        migration.memory_remaining = (total - copied) or None
        migration.save()
        if copied >= total:
            return
        time.sleep(PROGRESS_INTERVAL)
        copied = min(total, int(rate * (time.monotonic() - started)))


def host_driver(host):
    """A FakeDriver subclass reporting ``host``'s sizes and inventory.

    Reserved amounts and allocation ratios differ per host, so they come
    from the driver's own inventory rather than from the process-wide
    ``reserved_host_*``/``*_allocation_ratio`` options.
    """
    reserved = host.get('reserved') or {}
    ratio = host.get('allocation_ratio') or {}

    class HostDriver(fake_virt.FakeDriver):
        vcpus = int(host['vcpus'])
        memory_mb = int(host['memory_mb'])
        local_gb = int(host['disk_gb'])

        def live_migration(self, context, instance, dest, post_method,
                           recover_method, block_migration=False,
                           migrate_data=None):
            # The fake driver migrates at once and reports nothing; with
            # a rate, copy the guest's memory over time and report it on
            # the migration record as libvirt's migration monitor does.
            rate = NovaBed.topology.get('live_migration_rate')
            if rate and migrate_data is not None and \
                    migrate_data.obj_attr_is_set('migration'):
                report_progress(migrate_data.migration,
                                instance.flavor.memory_mb * MiB, rate)
            super().live_migration(context, instance, dest, post_method,
                                   recover_method, block_migration,
                                   migrate_data)

        def update_provider_tree(self, provider_tree, nodename,
                                 allocations=None):
            super().update_provider_tree(provider_tree, nodename,
                                         allocations)
            inventory = provider_tree.data(nodename).inventory
            for rc, key_r, key_a in (('VCPU', 'vcpus', 'vcpu'),
                                     ('MEMORY_MB', 'memory_mb', 'memory'),
                                     ('DISK_GB', 'disk_gb', 'disk')):
                inventory[rc]['reserved'] = int(reserved.get(key_r, 0))
                inventory[rc]['allocation_ratio'] = float(
                    ratio.get(key_a, 1.0))
            provider_tree.update_inventory(nodename, inventory)

    name = 'WatcherBed_%s' % ''.join(c if c.isalnum() else '_'
                                     for c in host['name'])
    HostDriver.__name__ = HostDriver.__qualname__ = name
    # Nova loads its driver by name from nova.virt.
    setattr(fake_virt, name, HostDriver)
    return 'fake.' + name


# --------------------------------------------------------------------------
# Admin context for token-less clients


class AdminContext:
    """Fill in the admin identity for requests that carry none.

    Nova's harness stubs keystonemiddleware and builds the context from
    ``X-Auth-User``/``X-Auth-Project-Id``/``X-Roles``; Placement's
    noauth2 middleware wants ``X-Auth-Token`` as ``user:project``.
    Watcher connects with ``auth_type=none`` and sends neither.
    """

    def __init__(self, app, project_id, placement=False):
        self.app = app
        self.project_id = project_id
        self.placement = placement

    def __call__(self, environ, start_response):
        if self.placement:
            # keystoneauth's noauth plugin sends the placeholder token
            # "notused", which Placement would take for a user's name.
            if environ.get('HTTP_X_AUTH_TOKEN') in (None, '', 'notused'):
                environ['HTTP_X_AUTH_TOKEN'] = 'admin'
        else:
            environ.setdefault('HTTP_X_AUTH_USER', 'admin')
            environ.setdefault('HTTP_X_AUTH_PROJECT_ID', self.project_id)
            environ.setdefault('HTTP_X_ROLES', ADMIN_ROLES)
        return self.app(environ, start_response)


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        logging.getLogger('realnova.http').debug(fmt, *args)


def serve(app):
    """Serve a WSGI app on a free loopback port; returns the server."""
    httpd = simple_server.make_server(LOOPBACK, 0, app, server_class=_Server,
                                      handler_class=_QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever,
                              name='realnova-http', daemon=True)
    thread.start()
    return httpd


# --------------------------------------------------------------------------
# The bed: Nova's functional harness, run as one long "test"


class NovaBed(integrated_helpers.ProviderUsageBaseTestCase):
    """API, conductor, scheduler, Placement and one compute per host."""

    compute_driver = 'fake.FakeDriver'
    microversion = 'latest'
    topology = None
    log_file = None
    ready_out = _READY_OUT

    def setUp(self):
        # The wheel installs api-paste.ini under the virtualenv's etc/,
        # not beside site-packages where Nova's ConfFixture looks.
        self.flags(api_paste_config=os.path.join(
            sys.prefix, 'etc', 'nova', 'api-paste.ini'), group='wsgi')
        self._placement_apps = []
        real_loadapp = placement_deploy.loadapp

        def loadapp(conf, *args, **kwargs):
            app = real_loadapp(conf, *args, **kwargs)
            self._placement_apps.append(app)
            return app

        placement_deploy.loadapp = loadapp
        try:
            super().setUp()
        finally:
            placement_deploy.loadapp = real_loadapp
        if self.log_file:
            handler = logging.FileHandler(self.log_file)
            handler.setLevel(logging.INFO)
            handler.setFormatter(logging.Formatter(
                '%(asctime)s %(levelname)s [%(name)s] %(message)s'))
            logging.getLogger().addHandler(handler)
            self.addCleanup(logging.getLogger().removeHandler, handler)

    # -- building the cluster ----------------------------------------------

    def build(self, topology):
        hosts = topology.get('hosts') or []
        if not hosts:
            raise TopologyError('the topology has no hosts')
        for host in hosts:
            self.flags(compute_driver=host_driver(host))
            self._start_compute(host['name'])
        self._zones(hosts)
        groups = self._groups(topology.get('server_groups') or [])
        self._guests(topology.get('guests') or [], groups)
        self._services(hosts)

    def _zones(self, hosts):
        zones = {}
        for host in hosts:
            zone = host.get('availability_zone') or 'nova'
            if zone != 'nova':
                zones.setdefault(zone, []).append(host['name'])
        for zone, names in sorted(zones.items()):
            aggregate = self.admin_api.post_aggregate({'aggregate': {
                'name': 'zone-' + zone, 'availability_zone': zone}})
            for name in names:
                self.admin_api.add_host_to_aggregate(aggregate['id'], name)

    def _groups(self, groups):
        found = {}
        for group in groups:
            body = {'name': group['name'], 'policy': group.get(
                'policy', 'anti-affinity')}
            if group.get('rules'):
                body['rules'] = group['rules']
            found[group['name']] = self.admin_api.post_server_groups(body)
        return found

    def _flavor(self, guest, flavors):
        key = (int(guest.get('vcpus', 1)), int(guest.get('memory_mb', 2048)),
               int(guest.get('disk_gb', 20)),
               int(guest.get('ephemeral_gb', 0)),
               int(guest.get('swap_mb', 0)))
        if key not in flavors:
            name = guest.get('flavor_name') or 'bed-%dc-%dm-%dg-%de-%ds' % key
            if any(f['name'] == name for f in flavors.values()):
                name = 'bed-%dc-%dm-%dg-%de-%ds' % key
            flavor = self.admin_api.post_flavor({'flavor': {
                'name': name, 'vcpus': key[0], 'ram': key[1],
                'disk': key[2], 'OS-FLV-EXT-DATA:ephemeral': key[3],
                'swap': key[4]}})
            flavors[key] = flavor
        return flavors[key]['id']

    def _guests(self, guests, groups):
        flavors, pending = {}, []
        for guest in guests:
            body = {
                'name': guest['name'],
                'imageRef': '155d900f-4e14-4e4c-a73d-069cbf4541e6',
                'flavorRef': self._flavor(guest, flavors),
                'networks': 'none',
                'host': guest['host'],
            }
            request = {'server': body}
            group = guest.get('server_group')
            if group:
                if group not in groups:
                    raise TopologyError('guest %s: unknown server group %s'
                                        % (guest['name'], group))
                request['os:scheduler_hints'] = {
                    'group': groups[group]['id']}
            # One at a time: a group's policy is checked against the
            # members already placed.
            server = self.admin_api.post_server(request)
            server = self._wait_status(server, ('ACTIVE', 'ERROR'))
            if server['status'] == 'ERROR':
                raise TopologyError('guest %s could not be booted on %s: %s'
                                    % (guest['name'], guest['host'],
                                       server.get('fault', {}).get(
                                           'message', 'no fault recorded')))
            if server['OS-EXT-SRV-ATTR:host'] != guest['host']:
                raise TopologyError('guest %s landed on %s, not %s'
                                    % (guest['name'],
                                       server['OS-EXT-SRV-ATTR:host'],
                                       guest['host']))
            pending.append((server, guest.get('state') or 'active'))
        for server, state in pending:
            if state == 'active':
                continue
            if state not in STATE_ACTIONS:
                raise TopologyError('guest %s: state %s is not supported '
                                    'on real Nova (supported: active, %s)'
                                    % (server['name'], state,
                                       ', '.join(sorted(STATE_ACTIONS))))
            action, status = STATE_ACTIONS[state]
            self.admin_api.post_server_action(server['id'], action)
            server = self._wait_status(server, (status,))

    def _wait_status(self, server, statuses, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            server = self.admin_api.get_server(server['id'])
            if server['status'] in statuses:
                return server
            if time.monotonic() > deadline:
                raise TopologyError('guest %s still %s after %ss, not %s'
                                    % (server['name'], server['status'],
                                       timeout, ' or '.join(statuses)))
            time.sleep(0.1)

    def _services(self, hosts):
        services = {s['host']: s for s in self.admin_api.get_services(
            binary='nova-compute')}
        for host in hosts:
            service = services[host['name']]
            if host.get('status', 'enabled') == 'disabled':
                body = {'status': 'disabled'}
                if host.get('disabled_reason'):
                    body['disabled_reason'] = host['disabled_reason']
                self.admin_api.put_service(service['id'], body)
            if host.get('state', 'up') == 'down':
                self.computes[host['name']].stop()
                self.admin_api.put_service(service['id'],
                                           {'forced_down': True})

    # -- serving -------------------------------------------------------------

    def test_serve(self):
        started = time.monotonic()
        self.build(self.topology)
        project = self.api_fixture.project_id
        nova = serve(AdminContext(self.api_fixture.app(), project))
        placement = serve(AdminContext(self._placement_apps[-1], project,
                                       placement=True))
        self.addCleanup(placement.shutdown)
        self.addCleanup(nova.shutdown)
        self.ready_out.write(READY_MARK + json.dumps({
            'ready': True, 'pid': os.getpid(),
            'nova': 'http://%s:%d/v2.1' % (LOOPBACK, nova.server_port),
            'placement': 'http://%s:%d' % (LOOPBACK, placement.server_port),
            'build_seconds': round(time.monotonic() - started, 2),
        }) + '\n')
        self.ready_out.flush()
        # Serve until the client closes our stdin (or dies).
        while sys.stdin.read(4096):
            pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('topology', help='topology JSON file')
    parser.add_argument('--log', help='append Nova logs (INFO) to FILE')
    args = parser.parse_args(argv)
    with open(args.topology, encoding='utf-8') as stream:
        NovaBed.topology = json.load(stream)
    NovaBed.log_file = args.log

    import testtools
    result = testtools.TestResult()
    NovaBed('test_serve').run(result)
    problems = result.errors + result.failures
    if problems:
        detail = '\n'.join(text for _, text in problems)
        sys.stderr.write(detail + '\n')
        _READY_OUT.write(READY_MARK + json.dumps({
            'ready': False, 'error': detail.strip().splitlines()[-1]
            if detail.strip() else 'unknown error'}) + '\n')
        _READY_OUT.flush()
        return 1
    return 0


if __name__ == '__main__':
    try:
        code = main()
    except Exception:  # noqa: B902 - report, then exit non-zero
        traceback.print_exc()
        code = 1
    _READY_OUT.flush()
    # Nova's services leave non-daemon threads; do not wait for them.
    os._exit(code)

"""Real Nova for Watcher's services: the client side of the test bed.

``RealNova`` starts ``server.py`` in the Nova virtualenv as a child
process, from a sandbox topology, and waits until it serves Nova's API
and Placement on 127.0.0.1. ``RealNovaPlacementFixture`` takes the place
of Watcher's ``NovaPlacementFixture`` in Watcher's functional
environment: Watcher's collector, decision engine and applier then talk
to that Nova through openstacksdk, over HTTP.

The Nova virtualenv is made by ``make_venv.sh``; its location is
``$WM_NOVA_VENV``, or ``.venv-nova`` at the top of the repository.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

import fixtures
import requests
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from openstack import connection as os_connection

from watcher_maintenance.sandbox import services
from watcher_maintenance.sandbox import topology as sandbox_topology

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, 'server.py')
REPO = os.path.dirname(os.path.dirname(HERE))
# The Nova microversion Watcher asks for, as in the sandbox.
NOVA_API_VERSION = services.NOVA_API_VERSION
# Watcher's migration polling: 180 x 5 s by default, so a failed cold
# migration would take 15 minutes. Real migrations here take 1-2 s, but
# on a loaded 2-core CI machine one took over 12 s, so allow a minute.
MIGRATION_MAX_RETRIES = 300
MIGRATION_INTERVAL = 0.2
READY_MARK = b'REALNOVA-READY '
START_TIMEOUT = float(os.environ.get('WM_NOVA_START_TIMEOUT', 180))


class RealNovaError(RuntimeError):
    """The real-Nova bed could not start, or Nova refused a request."""


def nova_venv():
    return os.environ.get('WM_NOVA_VENV') or os.path.join(REPO, '.venv-nova')


def nova_python():
    """The Nova virtualenv's interpreter, or None when there is none."""
    python = os.path.join(nova_venv(), 'bin', 'python')
    return python if os.access(python, os.X_OK) else None


def to_bed_topology(topology) -> dict:
    """The JSON topology ``server.py`` builds, from a sandbox topology."""
    topo = sandbox_topology.load(topology)
    hosts = [{
        'name': h.hostname, 'vcpus': h.vcpus, 'memory_mb': h.memory,
        'disk_gb': h.disk,
        'reserved': {'vcpus': h.vcpu_reserved,
                     'memory_mb': h.memory_mb_reserved,
                     'disk_gb': h.disk_gb_reserved},
        'allocation_ratio': {'vcpu': h.vcpu_ratio, 'memory': h.memory_ratio,
                             'disk': h.disk_ratio},
        'availability_zone': h.availability_zone or 'nova',
        'status': h.status, 'disabled_reason': h.disabled_reason,
        'state': h.state} for h in topo.compute_nodes]
    guests = []
    for g in topo.instances:
        if getattr(g, 'bfv', False):
            raise RealNovaError('guest %s: boot from volume is not supported '
                                'by the real-Nova bed' % g.name)
        if getattr(g, 'pinned_az', None):
            raise RealNovaError('guest %s: pinned availability zones are not '
                                'supported by the real-Nova bed' % g.name)
        guests.append({
            'name': g.name, 'host': g.host, 'vcpus': g.vcpus,
            'memory_mb': g.memory, 'disk_gb': g.disk,
            'ephemeral_gb': g.ephemeral, 'swap_mb': g.swap,
            'state': g.state,
            'server_group': getattr(g, 'server_group', None),
            'flavor_name': getattr(g, 'flavor_name', None)})
    groups = [{'name': g.name, 'policy': g.policy, 'rules': g.rules}
              for g in getattr(topo, 'server_groups', None) or []]
    return {'hosts': hosts, 'guests': guests, 'server_groups': groups}


class RealNova(fixtures.Fixture):
    """Real Nova and Placement in a child process, serving on loopback.

    :param topology: a sandbox topology (object, dict or path).
    :param log_dir: where ``nova.log`` and ``nova.err`` go; a temporary
        directory (removed afterwards) when None.

    After ``setUp``: ``nova_url``, ``placement_url``, ``pid``, and
    ``request()`` for Nova's API as an admin.
    """

    def __init__(self, topology, log_dir=None, live_migration_rate=None):
        super().__init__()
        self.topology = to_bed_topology(topology)
        # Bytes of guest memory a live migration copies per second (the
        # fake driver reports progress as it goes); None: at once.
        self.topology['live_migration_rate'] = live_migration_rate
        self.log_dir = log_dir
        self.process = None

    def setUp(self):
        super().setUp()
        python = nova_python()
        if python is None:
            raise RealNovaError(
                'No Nova virtualenv at %s; create it with '
                'watcher_maintenance/realnova/make_venv.sh' % nova_venv())
        if self.log_dir is None:
            self.log_dir = tempfile.mkdtemp(prefix='realnova-')
            self.addCleanup(shutil.rmtree, self.log_dir, True)
        os.makedirs(self.log_dir, exist_ok=True)
        topo_path = os.path.join(self.log_dir, 'topology.json')
        with open(topo_path, 'w', encoding='utf-8') as stream:
            json.dump(self.topology, stream, indent=1)
        self.log_path = os.path.join(self.log_dir, 'nova.log')
        self.err_path = os.path.join(self.log_dir, 'nova.err')
        env = dict(os.environ)
        # Nothing of Watcher's interpreter may leak into Nova's.
        for name in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV'):
            env.pop(name, None)
        started = time.monotonic()
        with open(self.err_path, 'ab') as err:
            # Its own session, so teardown can end Nova and anything it
            # started, and nothing else.
            self.process = subprocess.Popen(
                [python, SERVER, topo_path, '--log', self.log_path],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                env=env, start_new_session=True, close_fds=True)
        self.addCleanup(self.stop)
        ready = self._read_ready(started)
        self.nova_url = ready['nova']
        self.placement_url = ready['placement']
        self.pid = ready['pid']
        self.start_seconds = time.monotonic() - started

    def _read_ready(self, started):
        stdout = self.process.stdout
        line = b''
        while READY_MARK not in line or not line.split(
                READY_MARK, 1)[1].endswith(b'\n'):
            left = START_TIMEOUT - (time.monotonic() - started)
            if left <= 0:
                raise RealNovaError('Nova did not get ready within %gs.%s'
                                    % (START_TIMEOUT, self.log_tail()))
            readable, _, _ = select.select([stdout], [], [], min(left, 1.0))
            if readable:
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    raise RealNovaError(
                        'Nova exited (code %s) before it was ready.%s'
                        % (self.process.wait(), self.log_tail()))
                line += chunk
        ready = json.loads(line.split(READY_MARK, 1)[1].split(b'\n')[0])
        if not ready.get('ready'):
            raise RealNovaError('Nova could not build the cluster: %s%s'
                                % (ready.get('error'), self.log_tail()))
        return ready

    def log_tail(self, lines=30):
        try:
            with open(self.err_path, encoding='utf-8',
                      errors='replace') as stream:
                tail = stream.read().splitlines()[-lines:]
        except OSError:
            return ''
        return ('\n--- %s ---\n' % self.err_path) + '\n'.join(tail)

    def stop(self, timeout=15):
        """Close Nova's stdin, wait, then end its process group."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        finally:
            process.stdout.close()
        # Anything the server started in its session goes with it.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    # -- Nova's API, as an admin ---------------------------------------------

    def request(self, method, path, body=None, microversion=NOVA_API_VERSION,
                expect=None):
        """Call Nova's API; returns the response (JSON-decoded if any)."""
        headers = {'OpenStack-API-Version': 'compute %s' % microversion,
                   'Accept': 'application/json'}
        resp = requests.request(method, self.nova_url + path, json=body,
                                headers=headers, timeout=30)
        if expect is not None and resp.status_code not in (
                (expect,) if isinstance(expect, int) else expect):
            raise RealNovaError('%s %s answered %s: %s'
                                % (method, path, resp.status_code, resp.text))
        return resp

    def get(self, path, **kwargs):
        return self.request('GET', path, expect=200, **kwargs).json()

    def placement(self, path, version='1.39'):
        resp = requests.get(self.placement_url + path, headers={
            'OpenStack-API-Version': 'placement %s' % version}, timeout=30)
        if resp.status_code != 200:
            raise RealNovaError('GET %s answered %s: %s'
                                % (path, resp.status_code, resp.text))
        return resp.json()


class RealNovaPlacementFixture(fixtures.Fixture):
    """Watcher's Nova/Placement wiring, pointed at real Nova.

    A drop-in for ``watcher.tests.local_fixtures.nova.NovaPlacementFixture``
    in Watcher's ``WatcherEnvironment``. Nova starts with the first
    topology that has hosts (``load_topology`` replaces it with a fresh
    one), so an empty class-level topology costs nothing.
    """

    def __init__(self, topology=None, log_dir=None):
        super().__init__()
        self._topology = topology
        self._log_dir = log_dir
        self.nova = None
        self._connection = None

    def setUp(self):
        super().setUp()
        services.override_watcher_nova_options(
            self, MIGRATION_MAX_RETRIES, MIGRATION_INTERVAL)
        self.useFixture(fixtures.MockPatch(
            'watcher.common.clients.get_sdk_connection',
            side_effect=self._sdk_connection))
        self.addCleanup(self._stop_nova)
        if self._topology is not None and sandbox_topology.load(
                self._topology).compute_nodes:
            self.reload_topology(self._topology)

    def _sdk_connection(self, *args, **kwargs):
        if self._connection is None:
            raise RealNovaError('No Nova is running: load a topology first')
        return self._connection

    def _stop_nova(self):
        if self.nova is not None:
            self.nova.cleanUp()
            self.nova = None
        self._connection = None

    def reload_topology(self, topology, live_migration_rate=None):
        """Replace the running Nova with one built from ``topology``."""
        self._stop_nova()
        log_dir = None
        if self._log_dir:
            log_dir = os.path.join(self._log_dir, str(time.time_ns()))
        nova = RealNova(topology, log_dir=log_dir,
                        live_migration_rate=live_migration_rate)
        nova.setUp()
        self.nova = nova
        session = ks_session.Session(auth=noauth.NoAuth(
            endpoint=nova.nova_url))
        self._connection = os_connection.Connection(
            session=session, compute_endpoint_override=nova.nova_url,
            placement_endpoint_override=nova.placement_url)
        self.invalidate_model()

    # Watcher keeps its model current from Nova's notifications, which
    # do not reach it here: the next audit must rebuild it from Nova.
    invalidate_model = staticmethod(
        services.SandboxNovaFixture.invalidate_model)

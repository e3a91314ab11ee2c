"""Watcher 17 deployed as an operator runs it, on 127.0.0.1.

``Deployment`` is a fixture that:

* creates a MariaDB database and a RabbitMQ virtual host of its own (a
  random name per run, dropped at cleanup), so runs never see each other;
* starts real Nova 34 and Placement 16 (``realnova.fixture.RealNova``)
  serving on loopback;
* writes ``watcher.conf`` (plus one small file per process naming its
  ``host``), makes the schema with ``watcher-db-manage upgrade``;
* starts ``watcher-api`` (HTTP, keystone-less through Watcher's own
  ``[DEFAULT] enable_authentication = False``), and N
  ``watcher-decision-engine`` and M ``watcher-applier`` processes, from
  Watcher's own console scripts in the virtualenv where this package is
  installed, each logging to a file of its own;
* runs the real ``openstack`` command against that API.

Messaging goes through ``BrokerProxy``, a TCP relay in front of
RabbitMQ, so a test can cut every service off the broker (an outage as
the services see it) without stopping the machine's RabbitMQ.

Every process is stopped at cleanup. The logs are in ``log_dir``; the
test case removes it only when the test passed.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import fixtures
import pymysql
import requests

from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.realnova import fixture as realnova
from watcher_maintenance.sandbox import services

BIN = os.path.dirname(sys.executable)
MYSQL_HOST = os.environ.get('WM_DEPLOYMENT_MYSQL_HOST', '127.0.0.1')
MYSQL_PORT = int(os.environ.get('WM_DEPLOYMENT_MYSQL_PORT', 3306))
MYSQL_USER = os.environ.get('WM_DEPLOYMENT_MYSQL_USER', 'root')
RABBIT_HOST = os.environ.get('WM_DEPLOYMENT_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('WM_DEPLOYMENT_RABBIT_PORT', 5672))
RABBIT_USER = os.environ.get('WM_DEPLOYMENT_RABBIT_USER', 'guest')
RABBIT_PASSWORD = os.environ.get('WM_DEPLOYMENT_RABBIT_PASSWORD', 'guest')
# Upper bound for a service to come up, or a command to answer, on a
# loaded two-core machine; everything waits on state, not on time.
TIMEOUT = float(os.environ.get('WM_DEPLOYMENT_TIMEOUT', 180))
# Real Nova sends its notifications nowhere Watcher listens, so the
# decision engines' compute model is refreshed by this period instead.
MODEL_PERIOD = 3
# Watcher 17's ``watcher-api`` (eventlet) refuses to start under
# oslo.service's threading backend; ``watcher-api-wsgi`` is the WSGI
# entry point Watcher generates for WSGI servers, and serves on its own.
API_BINARY = 'watcher-api-wsgi'
# Audit and plan states that end a wait unless a test names others.
FINISHED = ('SUCCEEDED', 'FAILED', 'CANCELLED')
DE_TOPIC = 'watcher.decision.control'
APPLIER_TOPIC = 'watcher.applier.control'


class DeploymentError(RuntimeError):
    """The bed could not be set up, or a service misbehaved."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for(what, check, timeout=TIMEOUT, interval=0.2):
    """Poll ``check()`` until it returns something true; return it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DeploymentError('Gave up after %gs waiting for %s'
                                  % (timeout, what))
        time.sleep(interval)


# -- MariaDB and RabbitMQ, one of each per run -------------------------------

class Database(fixtures.Fixture):
    """A MariaDB database of its own, dropped at cleanup."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def _setUp(self):
        self.execute('CREATE DATABASE `%s` CHARACTER SET utf8mb4' % self.name)
        self.addCleanup(self.execute,
                        'DROP DATABASE IF EXISTS `%s`' % self.name)
        self.url = 'mysql+pymysql://%s@%s:%d/%s?charset=utf8mb4' % (
            MYSQL_USER, MYSQL_HOST, MYSQL_PORT, self.name)

    def connect(self, database=None):
        return pymysql.connect(host=MYSQL_HOST, port=MYSQL_PORT,
                               user=MYSQL_USER, database=database,
                               autocommit=True)

    def execute(self, sql, args=None, database=None):
        with self.connect(database) as connection:
            with connection.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchall()


def rabbitmqctl(*argv):
    done = subprocess.run(['rabbitmqctl', *argv], capture_output=True,
                          text=True, timeout=120)
    if done.returncode:
        raise DeploymentError('rabbitmqctl %s failed: %s%s' % (
            ' '.join(argv), done.stdout, done.stderr))
    return done.stdout


class Vhost(fixtures.Fixture):
    """A RabbitMQ virtual host of its own, deleted at cleanup."""

    def __init__(self, name):
        super().__init__()
        self.name = name

    def _setUp(self):
        if shutil.which('rabbitmqctl') is None:
            raise DeploymentError('rabbitmqctl is not on the PATH: the bed '
                                  'makes a virtual host per run with it')
        rabbitmqctl('add_vhost', self.name)
        self.addCleanup(rabbitmqctl, 'delete_vhost', self.name)
        rabbitmqctl('set_permissions', '-p', self.name, RABBIT_USER,
                    '.*', '.*', '.*')

    def consumers(self, queue) -> int:
        """Consumers of a queue of this vhost (0 when it has none)."""
        out = rabbitmqctl('list_queues', '-q', '-p', self.name,
                          '--no-table-headers', 'name', 'consumers')
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == queue:
                return int(parts[1])
        return 0


class BrokerProxy(fixtures.Fixture):
    """A TCP relay to RabbitMQ that a test can cut and restore.

    ``cut()`` closes every relayed connection and refuses new ones, which
    is what the services see when the broker goes away; ``restore()``
    accepts connections again.
    """

    def __init__(self, host=RABBIT_HOST, port=RABBIT_PORT):
        super().__init__()
        self.target = (host, port)
        self._up = threading.Event()
        self._lock = threading.Lock()
        self._sockets = set()
        self._closed = False

    def _setUp(self):
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(('127.0.0.1', 0))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        self._up.set()
        threading.Thread(target=self._accept, daemon=True).start()
        self.addCleanup(self._close)

    def _close(self):
        self._closed = True
        self._listener.close()
        self.cut()

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._relay, args=(client, upstream),
                             daemon=True).start()

    def _relay(self, a, b):
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with self._lock:
                    self._sockets.discard(sock)
                try:
                    sock.close()
                except OSError:
                    pass

    def cut(self):
        self._up.clear()
        with self._lock:
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self):
        self._up.set()


# -- Watcher's services -----------------------------------------------------

class Service:
    """One Watcher service process, started from its console script."""

    def __init__(self, deployment, binary, name):
        self.deployment = deployment
        self.binary = binary
        self.name = name
        self.log_path = os.path.join(deployment.log_dir, name + '.log')
        self.host_conf = os.path.join(deployment.log_dir, name + '.conf')
        with open(self.host_conf, 'w', encoding='utf-8') as stream:
            stream.write('[DEFAULT]\nhost = %s\n' % name)
        self.process = None
        self.stopped = False

    @property
    def argv(self):
        options = ['--config-file', self.deployment.conf_path,
                   '--config-file', self.host_conf, '--log-file',
                   self.log_path]
        if self.binary == API_BINARY:
            # Watcher's WSGI script: its own server options, then "--"
            # and the application's.
            return [os.path.join(BIN, self.binary), '--host', '127.0.0.1',
                    '--port', str(self.deployment.api_port), '--',
                    *options]
        return [os.path.join(BIN, self.binary), *options]

    def start(self):
        if self.running():
            raise DeploymentError('%s is already running' % self.name)
        self.stopped = False
        with open(self.log_path + '.out', 'ab') as out:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
                close_fds=True)
        return self

    def running(self):
        return self.process is not None and self.process.poll() is None

    def crashed(self):
        """Exited, and not because the bed ended it."""
        return (self.process is not None and not self.stopped
                and self.process.poll() is not None)

    def kill(self):
        """SIGKILL, as a crash or a power cut would end it."""
        self.stopped = True
        self._signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self, timeout=20):
        """SIGTERM, then SIGKILL; idempotent."""
        if self.process is None:
            return
        self.stopped = True
        if self.process.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait(30)
        # Workers the service forked go with it.
        self._signal(signal.SIGKILL)

    def _signal(self, number):
        try:
            os.killpg(self.process.pid, number)
        except ProcessLookupError:
            pass

    def log(self) -> str:
        text = ''
        for path in (self.log_path, self.log_path + '.out'):
            try:
                with open(path, encoding='utf-8', errors='replace') as s:
                    text += s.read()
            except OSError:
                pass
        return text

    def wait_log(self, pattern, timeout=TIMEOUT):
        """Wait until the service's log matches ``pattern``; the match."""
        regex = re.compile(pattern)

        def found():
            if self.process is not None and self.process.poll() is not None:
                raise DeploymentError('%s exited (code %s) before logging '
                                      '%r; see %s' % (
                                          self.name, self.process.returncode,
                                          pattern, self.log_path))
            return regex.search(self.log())
        return wait_for('%s to log %r' % (self.name, pattern), found,
                        timeout)


CONF_TEMPLATE = """\
[DEFAULT]
transport_url = rabbit://{rabbit_user}:{rabbit_password}@127.0.0.1:\
{proxy_port}/{vhost}
# Watcher's own switch: no keystonemiddleware in front of the API.
enable_authentication = False
debug = False
default_log_levels = {log_levels}

[oslo_policy]
policy_file = {policy}

[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 15
kombu_reconnect_delay = 0.5
rabbit_retry_interval = 1
rabbit_retry_backoff = 1
rabbit_interval_max = 2

[database]
connection = {db_url}
max_retries = -1

[api]
host = 127.0.0.1
port = {api_port}
workers = 1

[nova]
auth_type = none
endpoint_override = {nova_url}
api_version = {nova_api_version}
migration_max_retries = {migration_retries}
migration_interval = {migration_interval}

[placement]
auth_type = none
endpoint_override = {placement_url}

[watcher_clients_auth]
auth_type = none

[compute_model]
enable_extended_attributes = True

[collector]
# No keystone catalog to find Cinder in: the compute model only.
collector_plugins = compute

[watcher_cluster_data_model_collectors.compute]
period = {model_period}

[watcher_cluster_data_model_collectors.storage]
period = 86400

[watcher_cluster_data_model_collectors.baremetal]
period = 86400

[watcher_maintenance]
planning_lock_timeout = {lock_timeout}
"""

# The API has no identity without keystone: every caller may do what an
# admin may (Watcher's rules all derive from these two).
POLICY = """\
"admin_api": "@"
"admin_or_service_api": "@"
"""

LOG_LEVELS = ','.join((
    'amqp=WARN', 'amqplib=WARN', 'oslo.messaging=INFO',
    'oslo_messaging=INFO', 'sqlalchemy=WARN', 'stevedore=WARN',
    'keystoneauth=WARN', 'openstack=WARN', 'urllib3=WARN',
    'apscheduler=WARN', 'watcher=INFO', 'watcher_maintenance=INFO'))


class Deployment(fixtures.Fixture):
    """Watcher's services as separate processes, driving real Nova.

    :param topology: the cluster, a sandbox topology (object, dict or
        path), built in real Nova.
    :param decision_engines: how many ``watcher-decision-engine``.
    :param appliers: how many ``watcher-applier``.
    :param log_dir: where the configuration and every log go.
    """

    def __init__(self, topology, log_dir, decision_engines=1, appliers=1,
                 lock_timeout=120):
        super().__init__()
        self.topology = topology
        self.log_dir = log_dir
        self.counts = {'watcher-decision-engine': decision_engines,
                       'watcher-applier': appliers}
        self.lock_timeout = lock_timeout
        self.services = {}

    def _setUp(self):
        os.makedirs(self.log_dir, exist_ok=True)
        name = 'wm_deploy_%s' % uuid.uuid4().hex[:12]
        self.name = name
        self.database = self.useFixture(Database(name))
        self.vhost = self.useFixture(Vhost(name))
        self.broker = self.useFixture(BrokerProxy())
        self.nova = realnova.RealNova(
            self.topology, log_dir=os.path.join(self.log_dir, 'nova'))
        self.useFixture(self.nova)
        self.api_port = free_port()
        self.watcher_url = 'http://127.0.0.1:%d' % self.api_port
        self._write_conf()
        self._db_manage()
        self.api = self._start(API_BINARY, 'api')
        # One after another: each decision engine (and applier) writes
        # Watcher's goals, strategies (action descriptions) into the
        # database as it starts, and two doing it at the same moment on
        # an empty database collide: the loser exits (GoalAlreadyExists).
        self.decision_engines = []
        for n in range(1, self.counts['watcher-decision-engine'] + 1):
            self.decision_engines.append(self._start(
                'watcher-decision-engine', 'decision-engine-%d' % n))
            self.wait_consumers(DE_TOPIC, n)
        self.appliers = []
        for n in range(1, self.counts['watcher-applier'] + 1):
            self.appliers.append(self._start(
                'watcher-applier', 'applier-%d' % n))
            self.wait_consumers(APPLIER_TOPIC, n)
        self.wait_ready()

    def _write_conf(self):
        policy = os.path.join(self.log_dir, 'policy.yaml')
        with open(policy, 'w', encoding='utf-8') as stream:
            stream.write(POLICY)
        self.conf_path = os.path.join(self.log_dir, 'watcher.conf')
        with open(self.conf_path, 'w', encoding='utf-8') as stream:
            stream.write(CONF_TEMPLATE.format(
                rabbit_user=RABBIT_USER, rabbit_password=RABBIT_PASSWORD,
                proxy_port=self.broker.port, vhost=self.vhost.name,
                log_levels=LOG_LEVELS, policy=policy, db_url=self.database.url,
                api_port=self.api_port, nova_url=self.nova.nova_url,
                nova_api_version=services.NOVA_API_VERSION,
                migration_retries=realnova.MIGRATION_MAX_RETRIES,
                migration_interval=realnova.MIGRATION_INTERVAL,
                placement_url=self.nova.placement_url,
                model_period=MODEL_PERIOD, lock_timeout=self.lock_timeout))

    def _db_manage(self):
        log = os.path.join(self.log_dir, 'db-manage.log')
        with open(log, 'ab') as out:
            done = subprocess.run(
                [os.path.join(BIN, 'watcher-db-manage'), '--config-file',
                 self.conf_path, 'upgrade'], stdout=out,
                stderr=subprocess.STDOUT, timeout=TIMEOUT)
        if done.returncode:
            raise DeploymentError('watcher-db-manage upgrade failed; see %s'
                                  % log)

    def _start(self, binary, name):
        service = Service(self, binary, name)
        self.services[name] = service
        self.addCleanup(service.stop)
        return service.start()

    # -- readiness ---------------------------------------------------------

    def wait_ready(self):
        """The API answers, and every decision engine and applier
        consumes its topic (a message cast earlier would be lost)."""
        wait_for('watcher-api at %s' % self.watcher_url, self._api_up)
        self.wait_consumers(DE_TOPIC, self.live('decision-engine'))
        self.wait_consumers(APPLIER_TOPIC, self.live('applier'))

    def live(self, kind):
        return sum(1 for name, s in self.services.items()
                   if name.startswith(kind) and s.running())

    def wait_consumers(self, topic, count):
        def ready():
            self.check_alive()
            return self.vhost.consumers(topic) == count
        wait_for('%d consumer(s) of %s' % (count, topic), ready,
                 interval=0.5)

    def check_alive(self):
        """Raise if a service the test did not stop has exited."""
        for service in self.services.values():
            if service.crashed():
                raise DeploymentError('%s exited with code %s; see %s' % (
                    service.name, service.process.returncode,
                    service.log_path))

    def _api_up(self):
        self.check_alive()
        try:
            return requests.get(self.watcher_url + '/v1',
                                timeout=5).status_code == 200
        except requests.RequestException:
            return False

    # -- the operator's side -----------------------------------------------

    @property
    def env(self) -> dict:
        """The environment of an operator's shell, keystone-less."""
        env = dict(os.environ)
        env.update({
            'OS_AUTH_TYPE': 'none',
            'OS_ENDPOINT': self.watcher_url,
            'OS_INFRA_OPTIM_API_VERSION': watcher_ops.API_VERSION,
            'OS_COMPUTE_ENDPOINT_OVERRIDE': self.nova.nova_url,
            'OS_PLACEMENT_ENDPOINT_OVERRIDE': self.nova.placement_url,
        })
        return env

    def openstack(self, *argv, check=True, timeout=TIMEOUT):
        """Run the real ``openstack`` command; the CompletedProcess."""
        done = subprocess.run([os.path.join(BIN, 'openstack'), *argv],
                              env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        if check and done.returncode:
            raise DeploymentError('openstack %s exited %d:\n%s%s' % (
                ' '.join(argv), done.returncode, done.stdout, done.stderr))
        return done

    def logs(self) -> str:
        return '\n'.join('%s: %s' % (n, s.log_path)
                         for n, s in sorted(self.services.items()))

    # -- Watcher's REST API, for polling (cheaper than a command each time)

    def get(self, path, **params):
        resp = requests.get(self.watcher_url + '/v1' + path, params=params,
                            headers={'OpenStack-API-Version': 'infra-optim '
                                     + watcher_ops.API_VERSION},
                            timeout=60)
        if resp.status_code != 200:
            raise DeploymentError('GET %s answered %s: %s'
                                  % (path, resp.status_code, resp.text))
        return resp.json()

    def audit(self, uuid) -> dict:
        return self.get('/audits/%s' % uuid)

    def plans_of(self, audit_uuid) -> list:
        return self.get('/action_plans/detail',
                        audit_uuid=audit_uuid)['action_plans']

    def actions_of(self, plan_uuid) -> list:
        return self.get('/actions/detail',
                        action_plan_uuid=plan_uuid)['actions']

    def wait_audit(self, uuid, states=FINISHED, timeout=TIMEOUT):
        return self._wait_state('audit', '/audits/%s' % uuid, states,
                                timeout)

    def wait_plan(self, uuid, states=FINISHED, timeout=TIMEOUT):
        return self._wait_state('action plan', '/action_plans/%s' % uuid,
                                states, timeout)

    def _wait_state(self, kind, path, states, timeout):
        def done():
            self.check_alive()
            found = self.get(path)
            return found if found['state'] in states else None
        return wait_for('%s %s to be %s' % (kind, path.rsplit('/', 1)[1],
                                            ' or '.join(states)),
                        done, timeout, interval=0.5)

    def compute_model(self) -> dict:
        """{server uuid: node} as a decision engine's model has it."""
        body = self.get('/data_model', data_model_type='compute')
        return {row['server_uuid']: row['node_hostname']
                for row in body.get('context', [])
                if row.get('server_uuid')}

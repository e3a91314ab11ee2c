"""Run the maintenance commands against the sandbox, as ``openstack`` would.

The commands are found by cliff's ``CommandManager`` in the
``openstack.infra_optim.v1`` namespace (as OpenStackClient finds them)
and given a client manager whose ``infra-optim`` client is
python-watcherclient and whose ``compute`` client is openstacksdk's,
both pointed at the sandbox's in-process Watcher API and Nova
(wsgi-intercept) through keystoneauth sessions without Keystone, and run
through cliff's ``Command.run`` so the exit code is the one the shell
would return.
"""

from __future__ import annotations

import dataclasses
import io

from cliff import commandmanager
from keystoneauth1 import noauth
from keystoneauth1 import session as ks_session
from openstack import connection
from watcher.tests.functional import base as wbase
from watcherclient.v1 import client as watcher_client

from watcher_maintenance.cli import watcher_ops

NAMESPACE = 'openstack.infra_optim.v1'
PROJECT = 'aaaaaaaa-1111-2222-3333-444444444444'


def watcher(endpoint):
    """python-watcherclient on the sandbox API, as an admin, no Keystone."""
    session = ks_session.Session(
        auth=noauth.NoAuth(),
        additional_headers={'X-User-Id': wbase.FAKE_USER_UUID,
                            'X-Project-Id': PROJECT,
                            'X-Roles': 'admin'})
    return watcher_client.Client(
        endpoint=endpoint, session=session,
        os_infra_optim_api_version=watcher_ops.API_VERSION)


def compute(nova_url):
    """openstacksdk's compute proxy on the sandbox Nova."""
    endpoint = nova_url + '/v2.1'
    session = ks_session.Session(auth=noauth.NoAuth(endpoint=endpoint))
    return connection.Connection(session=session,
                                 compute_endpoint_override=endpoint).compute


@dataclasses.dataclass
class ClientManager:
    infra_optim: object
    compute: object

    def __getattr__(self, name):
        # OpenStackClient names python-watcherclient's client by its API
        # name, 'infra-optim', which is no Python identifier.
        if name == 'infra-optim':
            return self.infra_optim
        raise AttributeError(name)


class Terminal(io.StringIO):
    """Standard input that claims to be a terminal (for the prompt)."""

    def isatty(self):
        return True


@dataclasses.dataclass
class App:
    client_manager: ClientManager
    stdin: io.StringIO
    stdout: io.StringIO = dataclasses.field(default_factory=io.StringIO)
    stderr: io.StringIO = dataclasses.field(default_factory=io.StringIO)
    options: object = None
    command_manager: object = None


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self):
        return self.out + self.err


def run(clients, name, *argv, stdin=None, poll_interval=0.05, width=160):
    """``openstack optimize maintenance NAME ARGV...`` -> ``Result``."""
    manager = commandmanager.CommandManager(NAMESPACE)
    cls, cmd_name, rest = manager.find_command(
        ['optimize', 'maintenance', name])
    app = App(clients, stdin if stdin is not None else io.StringIO(),
              command_manager=manager)
    cmd = cls(app, None, cmd_name=cmd_name)
    cmd.poll_interval = poll_interval
    cmd.width = width
    parser = cmd.get_parser('openstack optimize maintenance %s' % name)
    code = cmd.run(parser.parse_args(list(argv)))
    return Result(code, app.stdout.getvalue(), app.stderr.getvalue())


SESSION_CLUSTER = {
    'hosts': [{'name': 'compute-%d' % n, 'vcpus': 16, 'memory_mb': 32768,
               'disk_gb': 400} for n in (1, 2, 3)],
    'guests': [
        {'name': 'web-{n}', 'count': 2, 'host': 'compute-1', 'vcpus': 2,
         'memory_mb': 4096, 'disk_gb': 20, 'project_id': 'shop'},
        {'name': 'db-1', 'host': 'compute-1', 'vcpus': 4,
         'memory_mb': 8192, 'disk_gb': 80, 'project_id': 'shop'},
        {'name': 'batch-1', 'host': 'compute-1', 'vcpus': 2,
         'memory_mb': 2048, 'disk_gb': 20, 'state': 'stopped',
         'project_id': 'science'},
        {'name': 'ci-runner-1', 'host': 'compute-2', 'vcpus': 4,
         'memory_mb': 8192, 'disk_gb': 40, 'project_id': 'ci'},
    ],
}


def session(width=100):
    """Print an operator's session (for doc/source/cli.rst)."""
    from watcher_maintenance.sandbox import services

    with services.Sandbox(SESSION_CLUSTER, cast_as_call=False) as sandbox:
        # Live migrations copy 2 GiB of guest memory a second, so the
        # progress of each shows.
        sandbox.set_migration_rate(2 * 1024 ** 3)
        clients = ClientManager(
            infra_optim=watcher(sandbox.admin_api.base_url[:-len('/v1')]),
            compute=compute(sandbox.nova_fixture.nova_url))
        for argv in (('enter', 'compute-1', '--yes', '--wait'),
                     ('show', 'compute-1')):
            sandbox.nova_fixture.invalidate_model()
            print('$ openstack optimize maintenance %s' % ' '.join(argv))
            result = run(clients, *argv, poll_interval=1.0, width=width)
            # What a terminal shows: both streams, in the order written
            # (the progress bar is on stderr and ends before the results).
            print(result.out.rstrip('\n') if not result.err else
                  _interleave(result))
            print('$ echo $?\n%d' % result.code)


def _interleave(result):
    # Sentences and tables before the plan started are on stdout, the
    # progress bar on stderr, then the results on stdout again.
    marker = 'Guests ('
    head, sep, tail = result.out.partition(marker)
    return (head + result.err + sep + tail).rstrip('\n')


if __name__ == '__main__':
    import logging
    logging.disable(logging.WARNING)
    session()

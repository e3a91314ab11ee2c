"""``watcher-maintenance demo``: a drain, end to end, on the sandbox.

Starts Watcher's API, decision engine and applier in this process
against the sandbox's Nova, shows the cluster, asks ``host_drain`` for
a plan, prints it with its efficacy indicators, runs it with a live
progress bar and shows the cluster again.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings

from watcher_maintenance import names
from watcher_maintenance import params
from watcher_maintenance.planning import wording

DEFAULT_NODE = 'compute-03'

# The built-in cluster: ten hosts in two zones, the last one a designated
# spare; 72 guests of four flavors, some stopped, some boot-from-volume,
# two pinned to their zone.
BUILTIN = {
    'name': 'demo',
    'flavors': {
        'm1.small': {'vcpus': 1, 'memory_mb': 2048, 'disk_gb': 20},
        'm1.medium': {'vcpus': 2, 'memory_mb': 4096, 'disk_gb': 40},
        'm1.large': {'vcpus': 4, 'memory_mb': 8192, 'disk_gb': 80},
        'm1.xlarge': {'vcpus': 8, 'memory_mb': 16384, 'disk_gb': 160},
    },
    'defaults': {
        'host': {'vcpus': 32, 'memory_mb': 131072, 'disk_gb': 2000,
                 'allocation_ratio': {'vcpu': 4.0},
                 'reserved': {'memory_mb': 4096}},
    },
    'hosts': (
        [{'name': 'compute-%02d' % i, 'availability_zone': 'az-1'}
         for i in range(1, 6)]
        + [{'name': 'compute-%02d' % i, 'availability_zone': 'az-2'}
           for i in range(6, 10)]
        + [{'name': 'compute-10', 'availability_zone': 'az-2',
            'status': 'disabled', 'disabled_reason': names.SPARE_REASON}]),
    'guests': [
        # Spread over the nine working hosts, round robin.
        {'name': 'web-{n}', 'count': 27, 'flavor': 'm1.small',
         'hosts': ['compute-%02d' % i for i in range(1, 10)]},
        {'name': 'app-{n}', 'count': 18, 'flavor': 'm1.medium',
         'hosts': ['compute-%02d' % i for i in range(1, 10)]},
        {'name': 'batch-{n}', 'count': 9, 'flavor': 'm1.large',
         'state': 'stopped',
         'hosts': ['compute-%02d' % i for i in range(1, 10)]},
        {'name': 'db-{n}', 'count': 9, 'flavor': 'm1.xlarge',
         'hosts': ['compute-%02d' % i for i in range(1, 10)]},
        {'name': 'vol-{n}', 'count': 6, 'flavor': 'm1.large',
         'boot_from_volume': True,
         'hosts': ['compute-%02d' % i for i in (2, 3, 4, 6, 7, 8)]},
        {'name': 'edge-{n}', 'count': 2, 'flavor': 'm1.medium',
         'pinned_az': 'az-1', 'hosts': ['compute-03', 'compute-05']},
        {'name': 'legacy-1', 'flavor': 'm1.large', 'state': 'paused',
         'host': 'compute-08'},
    ],
}

_TERMINAL = ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SUPERSEDED')
# Bookkeeping actions of the maintenance planner, not shown one by one.
_HIDDEN = (names.CHECKPOINT,)


def _shown(actions):
    return [a for a in actions if a['action_type'] not in _HIDDEN]


def build_parser():
    parser = argparse.ArgumentParser(
        prog='watcher-maintenance',
        description='Host maintenance for OpenStack Watcher.')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    demo = commands.add_parser(
        'demo', help='drain a host of an emulated cluster, end to end',
        description='Run Watcher (API, decision engine, applier) in this '
                    'process against an emulated Nova, drain one host with '
                    'the host_drain strategy and show every step.')
    demo.add_argument('--topology', metavar='FILE',
                      help='cluster description (YAML or JSON, see '
                           'doc/source/sandbox.rst); default: a built-in '
                           '10-host cluster')
    demo.add_argument('--node', metavar='NAME',
                      help='host to drain (default: %s on the built-in '
                           'cluster, else the first host)' % DEFAULT_NODE)
    demo.add_argument('-p', '--parameter', dest='parameters',
                      action='append', type=params.parse_key_value, default=[],
                      metavar='KEY=VALUE',
                      help='host_drain parameter, repeatable '
                           '(e.g. -p placement=pack -p '
                           'max_parallel_migrations=2)')
    demo.add_argument('--dry-run', action='store_true',
                      help='stop after showing the plan')
    demo.add_argument('--show-topology', action='store_true',
                      help='print the cluster description as YAML and exit')
    demo.add_argument('--width', type=int, default=None,
                      help=argparse.SUPPRESS)
    sandbox = commands.add_parser(
        'sandbox', help='the sandbox on 127.0.0.1, to try things by hand')
    actions = sandbox.add_subparsers(dest='action', metavar='ACTION')
    serve = actions.add_parser(
        'serve', help='serve Watcher and the emulated Nova until Ctrl-C',
        description='Run Watcher (API, decision engine, applier) and the '
                    'emulated Nova, keystone-less, on 127.0.0.1 until '
                    'interrupted, and print the OS_* variables with which '
                    '"openstack optimize ..." talks to them.')
    serve.add_argument('--topology', metavar='FILE',
                       help='cluster description (YAML or JSON); default: '
                            'the demo\'s built-in 10-host cluster')
    serve.add_argument('--host', default='127.0.0.1',
                       help='address to listen on (default 127.0.0.1)')
    serve.add_argument('--port', type=int, default=0,
                       help='port of the Watcher API (default: any free '
                            'one)')
    serve.add_argument('--migration-rate', type=_rate, metavar='MIB_PER_S',
                       help='live migrations copy guest memory at this '
                            'many MiB per second, so their progress can be '
                            'followed (default: they complete at once)')
    return parser


def _rate(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(
            'a migration rate is > 0 MiB per second, not %s' % text)
    return value


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == 'sandbox' and getattr(args, 'action', None) == \
            'serve':
        from watcher_maintenance.sandbox import serve
        return serve.run(args)
    if args.command != 'demo':
        parser.print_help()
        return 2
    return run_demo(args)


# --------------------------------------------------------------------------


def quiet():
    """Silence import-time deprecation warnings and early log lines.

    Watcher's libraries warn about eventlet and log their service backend
    as they are imported; the demo's output is for operators.
    """
    warnings.simplefilter('ignore')
    logging.getLogger().addHandler(logging.NullHandler())


def run_demo(args):
    quiet()
    from rich.console import Console

    from watcher_maintenance.sandbox import topology as sandbox_topology

    console = Console(width=args.width, highlight=False)
    try:
        topo = (sandbox_topology.load(args.topology) if args.topology
                else sandbox_topology.from_dict(BUILTIN, where='built-in'))
    except (OSError, sandbox_topology.TopologyError) as error:
        console.print('[red]Cannot load the cluster:[/] %s' % error)
        return 2
    if args.show_topology:
        import yaml
        console.print(yaml.safe_dump(BUILTIN if not args.topology else
                                     sandbox_topology.read_file(
                                         args.topology),
                                     sort_keys=False), markup=False)
        return 0
    hosts = [h.hostname for h in topo.compute_nodes]
    node = args.node or (DEFAULT_NODE if not args.topology else
                         (hosts[0] if hosts else None))
    if node not in hosts:
        console.print('[red]No host named %r in the cluster.[/] Hosts: %s'
                      % (node, ', '.join(hosts)))
        return 2
    parameters = {'maintenance_node': node}
    parameters.update(args.parameters)
    return Demo(console, topo, node, parameters, args.dry_run).run()


class Demo:
    def __init__(self, console, topo, node, parameters, dry_run):
        self.console = console
        self.topo = topo
        self.node = node
        self.parameters = parameters
        self.dry_run = dry_run

    def run(self):
        from watcher_maintenance.sandbox import services

        started = time.monotonic()
        c = self.console
        c.rule('[bold]watcher-maintenance demo')
        c.print('Watcher API, decision engine and applier run in this '
                'process (SQLite, in-memory messaging) against an emulated '
                'Nova that refuses what real Nova refuses.')
        sandbox = services.Sandbox(self.topo, cast_as_call=False)
        with c.status('Starting Watcher services...'):
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                sandbox.setUp()
        warnings.simplefilter('ignore')
        try:
            return self._run(sandbox, started)
        finally:
            sandbox.cleanUp()

    def _run(self, sandbox, started):
        c = self.console
        c.print()
        c.print(self.usage_table(sandbox, 'Cluster before maintenance'))
        params = ' '.join(
            '-p %s=%s' % (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in self.parameters.items())
        c.print()
        c.print('[bold]$ openstack optimize audit create -g '
                'cluster_maintenance -s host_drain %s' % params)
        with c.status('Decision engine planning the drain of %s...'
                      % self.node):
            resp = sandbox.audit_request(self.parameters)
            if resp.status_code != 201:
                c.print('[red]Watcher refused the audit:[/] %s'
                        % _api_error(resp))
                return 1
            audit = sandbox.wait_audit(resp.json()['uuid'])
        if audit['state'] != 'SUCCEEDED':
            c.print('[red]Audit %s %s:[/] %s' % (
                audit['uuid'], audit['state'],
                audit.get('status_message') or 'see the decision-engine '
                                               'log'))
            return 1
        c.print('Audit [bold]%s[/]: %s' % (audit['state'],
                                           audit.get('status_message')))
        plan = sandbox.plan_of(audit['uuid'])
        if plan is None:
            c.print('[yellow]No action plan: nothing to do.[/]')
            return 0
        actions = sandbox.actions_of(plan['uuid'])
        c.print()
        c.print(self.plan_table(sandbox, plan, actions))
        c.print(self.efficacy_table(plan))
        if self.dry_run:
            c.print('\n--dry-run: the plan stays RECOMMENDED; nothing was '
                    'changed. (%.1f s)' % (time.monotonic() - started))
            return 0
        c.print()
        c.print('[bold]$ openstack optimize actionplan start %s'
                % plan['uuid'])
        final = self.execute(sandbox, plan, actions)
        c.print()
        c.print(self.usage_table(sandbox, 'Cluster after maintenance'))
        style = 'green' if final['state'] == 'SUCCEEDED' else 'red'
        left = sandbox.servers_on(self.node)
        svc = sandbox.service(self.node)
        c.print('\nAction plan [bold %s]%s[/]. %s is %s (%s) with %d '
                'guest(s) left%s. No host over capacity: %s. (%.1f s)'
                % (style, final['state'], self.node, svc['status'],
                   svc.get('disabled_reason') or 'no reason', len(left),
                   ': ' + ', '.join(left) if left else '',
                   'yes' if not sandbox.overcommitted() else 'NO',
                   time.monotonic() - started))
        return 0 if final['state'] == 'SUCCEEDED' else 1

    # -- tables -------------------------------------------------------------

    def usage_table(self, sandbox, title):
        from rich.table import Table

        table = Table(title=title, title_justify='left', box=None,
                      pad_edge=False, padding=(0, 1, 0, 0))
        table.add_column('host', no_wrap=True)
        table.add_column('AZ', no_wrap=True)
        table.add_column('service', no_wrap=True)
        table.add_column('VMs', justify='right', no_wrap=True)
        for label in ('vCPU', 'RAM', 'disk'):
            table.add_column(label, no_wrap=True)
        for host in sorted(sandbox.nova.hosts):
            svc = sandbox.service(host)
            use = sandbox.usage(host)
            if svc['status'] == 'enabled':
                service = 'enabled' if svc['state'] == 'up' else '[red]down'
            else:
                # A disabled service shows why it is disabled.
                service = '[yellow]%s' % (svc.get('disabled_reason')
                                          or 'disabled')
            name = ('[bold]%s[/]' % host) if host == self.node else host
            table.add_row(
                name, sandbox.nova.hosts[host].get('availability_zone'),
                service, str(len(sandbox.servers_on(host))),
                _bar(use['vcpus'], use['vcpus_capacity']),
                _bar(use['memory_mb'], use['memory_mb_capacity']),
                _bar(use['disk_gb'], use['disk_gb_capacity']))
        return table

    def plan_table(self, sandbox, plan, actions):
        from rich.table import Table

        from rich import box

        table = Table(title='Action plan %s (%s)' % (plan['uuid'],
                                                     plan['state']),
                      title_justify='left', box=box.SIMPLE_HEAD,
                      pad_edge=False, padding=(0, 1, 0, 0))
        table.add_column('#', justify='right', no_wrap=True)
        table.add_column('action', no_wrap=True)
        table.add_column('guest / host', no_wrap=True)
        table.add_column('from → to (reason)', no_wrap=True)
        table.add_column('how', no_wrap=True)
        for index, action in enumerate(_shown(actions), 1):
            table.add_row(str(index), *self.describe(sandbox, action))
        hidden = len(actions) - len(_shown(actions))
        if hidden:
            table.caption = ('and %d checkpoint(s) of the maintenance '
                             'planner around them' % hidden)
        return table

    @staticmethod
    def describe(sandbox, action):
        p = action['input_parameters']
        kind = action['action_type']
        if kind == names.MIGRATE:
            how = p.get('migration_type', '')
            try:
                status = sandbox.server(p.get('resource_name'))['status']
            except KeyError:
                status = 'gone'
            return (kind, p.get('resource_name', action.get('resource_id')),
                    '%s → %s' % (p.get('source_node'),
                                 p.get('destination_node') or 'scheduler'),
                    '%s, %s' % (how, status.lower()))
        if kind == names.CHANGE_SERVICE_STATE:
            reason = p.get('disabled_reason')
            verb = 'enable' if p.get('state') == 'enabled' else 'disable'
            return ('%s service' % verb, p.get('resource_name', ''),
                    '(%s)' % reason if reason else '', '')
        if kind == 'sleep':
            return (kind, '', '', '%ss' % p.get('duration'))
        return (kind, p.get('resource_name', ''), '', '')

    @staticmethod
    def efficacy_table(plan):
        from rich.table import Table

        table = Table(title='Efficacy indicators', title_justify='left',
                      box=None, pad_edge=False)
        table.add_column('indicator')
        table.add_column('value', justify='right')
        table.add_column('unit')
        for ind in plan.get('efficacy_indicators') or []:
            table.add_row(ind.get('description') or ind['name'],
                          wording.number(ind.get('value'), 2),
                          ind.get('unit') or '')
        for glob in _as_list(plan.get('global_efficacy')):
            table.add_row('[bold]%s' % (glob.get('description')
                                        or glob.get('name')),
                          wording.number(glob.get('value'), 2),
                          glob.get('unit') or '')
        return table

    # -- execution ------------------------------------------------------------

    def execute(self, sandbox, plan, actions):
        from rich.progress import BarColumn
        from rich.progress import MofNCompleteColumn
        from rich.progress import Progress
        from rich.progress import TextColumn
        from rich.progress import TimeElapsedColumn

        done_states = ('SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELLED')
        sandbox.start_plan(plan['uuid'])
        reported = set()
        with Progress(TextColumn('{task.description}'), BarColumn(),
                      MofNCompleteColumn(), TimeElapsedColumn(),
                      console=self.console) as progress:
            task = progress.add_task('executing',
                                     total=len(_shown(actions)))
            while True:
                current = _shown(sandbox.actions_of(plan['uuid']))
                finished = [a for a in current if a['state'] in done_states]
                for action in finished:
                    if action['uuid'] in reported:
                        continue
                    reported.add(action['uuid'])
                    what = self.describe(sandbox, action)
                    style = {'SUCCEEDED': 'green', 'SKIPPED': 'yellow'}.get(
                        action['state'], 'red')
                    progress.console.print(
                        '  [%s]%-9s[/] %-26s %-10s %s' % (
                            style, action['state'], what[0], what[1],
                            what[2] or what[3]))
                    if action['state'] == 'FAILED' and action.get(
                            'status_message'):
                        progress.console.print('            %s'
                                               % action['status_message'])
                running = [a for a in current if a['state'] == 'ONGOING']
                label = ('%s %s' % self.describe(sandbox, running[0])[:2]
                         if running else 'executing')
                progress.update(task, completed=len(finished),
                                description=label)
                state = sandbox._get('/action_plans/%s'
                                     % plan['uuid'])['state']
                if state in _TERMINAL:
                    progress.update(task, description='done')
                    return sandbox._get('/action_plans/%s' % plan['uuid'])
                time.sleep(0.1)


def _bar(used, capacity, width=6):
    share = used / capacity if capacity else 0.0
    filled = min(width, int(round(share * width)))
    colour = 'green' if share < 0.7 else 'yellow' if share <= 1 else 'red'
    return '[%s]%s[/][dim]%s[/]%4d%%' % (colour, '█' * filled,
                                         '░' * (width - filled),
                                         round(share * 100))


def _as_list(value):
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _api_error(resp):
    try:
        body = resp.json()
        message = json.loads(body['error_message'])['faultstring']
    except (ValueError, KeyError, TypeError):
        message = resp.text
    return message


if __name__ == '__main__':
    sys.exit(main())

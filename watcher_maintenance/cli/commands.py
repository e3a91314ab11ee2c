"""``openstack optimize maintenance enter / show / exit``.

The commands are cliff commands (osc-lib's ``Command``) registered in
the ``openstack.infra_optim.v1`` namespace, next to python-watcherclient's
own ``optimize`` commands. They use the client manager's ``infra-optim``
client (python-watcherclient) and ``compute`` client (openstacksdk).

They take their own ``-f table|json|yaml`` instead of cliff's
``Lister``/``ShowOne`` formatters: ``enter`` reports a plan, its
indicators and per-guest results together, which is one document for a
script but several tables for a person.

Exit codes: 0 success; 1 the audit, the plan or one of its actions
failed (or Watcher refused the request); 3 the plan was not started
because it was not confirmed; 4 waiting timed out (Watcher carries on).
"""

from __future__ import annotations

import argparse
import dataclasses

from osc_lib.command import command
from rich.console import Console

from watcher_maintenance import names
from watcher_maintenance import params
from watcher_maintenance.cli import nova
from watcher_maintenance.cli import render
from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.cli.watcher_ops import Deadline
from watcher_maintenance.cli.watcher_ops import TimedOut
from watcher_maintenance.planning import options

OK = 0
FAILED = 1
NOT_CONFIRMED = 3
TIMED_OUT = 4

FORMATS = ('table', 'json', 'yaml')
WATCHER_CLIENT = 'infra-optim'   # the client manager attribute


def positive_seconds(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError('a timeout must be > 0 seconds')
    return value


class OutputCommand(command.Command):
    """What the maintenance commands share: clients and output."""

    # Seconds between polls of Watcher while waiting.
    poll_interval = 2.0
    # Rich renders tables this wide when the output is not a terminal.
    width = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('-f', '--format', dest='output_format',
                            choices=FORMATS, default='table',
                            help='Output format (default: table).')
        return parser

    # -- clients -------------------------------------------------------------

    def watcher(self):
        # python-watcherclient's plugin registers its client under its
        # API name, with a hyphen, as its own commands read it.
        ops = watcher_ops.WatcherOps(
            getattr(self.app.client_manager, WATCHER_CLIENT))
        ops.poll_interval = self.poll_interval
        return ops

    def nova(self):
        try:
            compute = self.app.client_manager.compute
        except Exception as error:  # noqa: BLE001 - reported as unknown
            self.log.warning('No compute client: %s', error)
            compute = None
        return nova.NovaReader(compute)

    # -- output --------------------------------------------------------------

    def plan_progress(self, reader):
        """The ``--wait`` display: actions done, each running live
        migration's progress, and the plan's ETA (on standard error)."""
        return render.PlanProgress(
            self.err, reader.guest,
            render.MigrationWatch(reader.migrations, reader.guest))

    def setup_output(self, parsed_args):
        self.fmt = parsed_args.output_format
        self.out = Console(file=self.app.stdout, width=self.width,
                           highlight=False, soft_wrap=True)
        self.err = Console(file=self.app.stderr, width=self.width,
                           highlight=False, soft_wrap=True)
        # Sentences go with the tables in table mode and stay out of the
        # JSON/YAML document otherwise.
        self.say = self.out if self.fmt == 'table' else self.err

    def emit(self, document):
        if self.fmt != 'table':
            self.app.stdout.write(render.dump(document, self.fmt))

    def error(self, text):
        self.err.print(text, markup=False)


class MaintenanceCommand(OutputCommand):
    """A command about one node: enter, show, exit."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('host', metavar='HOST',
                            help='Hostname of the compute node.')
        return parser


class PlanCommand(MaintenanceCommand):
    """Audit -> plan -> confirm -> start -> follow, for enter and exit."""

    strategy = None
    verb = None

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--param', metavar='KEY=VALUE', type=params.parse_key_value,
            action='append', default=[], dest='params',
            help='Another parameter of the %s strategy (repeatable), e.g. '
                 'max_parallel_migrations=2.' % self.strategy)
        parser.add_argument(
            '--dry-run', action='store_true',
            help='Show the plan and stop; nothing is started.')
        parser.add_argument(
            '--yes', action='store_true',
            help='Start the plan without asking. Required when there is '
                 'no terminal to ask on.')
        parser.add_argument(
            '--wait', action='store_true',
            help='Follow the plan with a progress bar until it ends, then '
                 'show what happened to each guest.')
        parser.add_argument(
            '--timeout', metavar='SECONDS', type=positive_seconds,
            default=None,
            help='Give up waiting for the audit, and with --wait for the '
                 'plan, after this many seconds each (Watcher carries on). '
                 'Default: no limit.')
        return parser

    def parameters(self, parsed_args):
        raise NotImplementedError

    def take_action(self, parsed_args):
        self.setup_output(parsed_args)
        parameters = dict(parsed_args.params)
        parameters.update(self.parameters(parsed_args))
        parameters['maintenance_node'] = parsed_args.host
        run = _Run(parsed_args.host, parsed_args, self.watcher(),
                   self.nova(), {
                       'host': parsed_args.host, 'strategy': self.strategy,
                       'parameters': parameters, 'audit': None,
                       'plan': None, 'indicators': [], 'actions': [],
                       'results': []})
        try:
            for step in (self.create_audit, self.show_plan, self.confirm,
                         self.follow):
                step(run)
            return self.report(run)
        except _Finished as end:
            if end.emit:
                self.emit(run.document)
            return end.code

    # -- the steps, in order; each one ends the command by raising
    # _Finished, or hands on to the next through ``run``.

    def create_audit(self, run):
        """Create the audit and wait for the decision engine."""
        try:
            audit = run.ops.create_audit(self.strategy,
                                         run.document['parameters'])
        except Exception as error:  # noqa: BLE001 - watcherclient errors
            self.error('Watcher refused the %s audit for %s: %s'
                       % (self.strategy, run.host, error))
            raise _Finished(FAILED, emit=False)
        self.say.print('Audit %s (%s) created for %s; waiting for the '
                       'decision engine.' % (audit['uuid'], self.strategy,
                                             run.host), markup=False)
        try:
            audit = run.ops.wait_audit(audit['uuid'], Deadline(
                run.args.timeout))
        except TimedOut as late:
            self.error('Gave up after %g s: audit %s is still %s. Watcher '
                       'carries on; see it with `openstack optimize audit '
                       'show %s`.' % (late.seconds, late.uuid, late.state,
                                      late.uuid))
            run.document['audit'] = {'uuid': late.uuid, 'state': late.state}
            raise _Finished(TIMED_OUT)
        run.audit = audit
        run.document['audit'] = render.summary(audit)
        if audit['state'] != 'SUCCEEDED':
            self.error('Audit %s %s: %s' % (
                audit['uuid'], audit['state'],
                audit.get('status_message') or 'Watcher gave no reason; '
                'see the decision-engine log.'))
            raise _Finished(FAILED)

    def show_plan(self, run):
        """Show the plan the audit made, with its indicators."""
        audit = run.audit
        run.plan = run.ops.plan_of(audit['uuid'])
        if run.plan is None:
            self.say.print('Audit %s succeeded without an action plan: '
                           'nothing to do for %s. %s' % (
                               audit['uuid'], run.host,
                               audit.get('status_message') or ''),
                           markup=False)
            raise _Finished(OK)
        run.actions = run.ops.actions_of(run.plan['uuid'])
        rows = render.plan_rows(run.actions, run.reader.guest, run.host)
        indicators = render.indicators(run.plan)
        run.document.update(plan=render.summary(run.plan),
                            indicators=indicators, actions=rows)
        if self.fmt == 'table':
            if audit.get('status_message'):
                self.say.print(audit['status_message'], markup=False)
            render.print_plan(self.out, run.plan, rows, indicators)

    def confirm(self, run):
        """Stop here on --dry-run or a refusal, else start the plan."""
        plan = run.plan
        if run.args.dry_run:
            self.say.print('Dry run: action plan %s was not started. Start '
                           'it later with `openstack optimize actionplan '
                           'start %s`.' % (plan['uuid'], plan['uuid']),
                           markup=False)
            raise _Finished(OK)
        if not run.args.yes and not self.ask(run.host, plan, run.actions):
            raise _Finished(NOT_CONFIRMED)
        run.ops.start_plan(plan['uuid'])

    def follow(self, run):
        """With --wait, follow the plan until it ends."""
        if not run.args.wait:
            self.say.print('Action plan %s started. Follow it with '
                           '`openstack optimize maintenance show %s`.'
                           % (run.plan['uuid'], run.host), markup=False)
            run.document['plan']['state'] = 'PENDING'
            raise _Finished(OK)
        run.reader.forget()
        try:
            with self.plan_progress(run.reader) as bar:
                run.plan = run.ops.follow_plan(run.plan['uuid'],
                                               Deadline(run.args.timeout),
                                               on_poll=bar.update)
        except TimedOut as late:
            self.error(
                'Gave up after %g s: action plan %s is still %s and keeps '
                'running in Watcher. Follow it with `openstack optimize '
                'maintenance show %s`, or stop it with `openstack optimize '
                'actionplan cancel %s`.' % (
                    late.seconds, late.uuid, late.state, run.host,
                    late.uuid))
            run.document['plan']['state'] = late.state
            raise _Finished(TIMED_OUT)

    def report(self, run):
        """What happened to each guest, and the exit code."""
        plan = run.plan
        run.reader.forget()
        actions = run.ops.actions_of(plan['uuid'])
        results = render.result_rows(actions, run.reader.guest,
                                     plan['state'], run.host)
        run.document.update(plan=render.summary(plan), results=results)
        if self.fmt == 'table':
            render.print_results(self.out, 'Guests (action plan %s %s)' % (
                plan['uuid'], plan['state']), results)
        self.emit(run.document)
        failures = render.failed(results)
        if plan['state'] != 'SUCCEEDED' or failures:
            self.error('%s of %s did not complete: action plan %s %s%s; '
                       '%d of %d guest actions failed or were cancelled.' % (
                           self.verb.capitalize(), run.host, plan['uuid'],
                           plan['state'],
                           (' (%s)' % plan['status_message'])
                           if plan.get('status_message') else '',
                           len(failures), len(results)))
            return FAILED
        self.say.print('%s of %s done: action plan %s SUCCEEDED.' % (
            self.verb.capitalize(), run.host, plan['uuid']), markup=False)
        return OK

    def ask(self, host, plan, actions):
        """Ask on the terminal whether to start the plan."""
        stdin = self.app.stdin
        if stdin is None or not stdin.isatty():
            self.error('Not starting action plan %s: there is no terminal '
                       'to confirm on. Rerun with --yes to start it, or '
                       'start it with `openstack optimize actionplan start '
                       '%s`.' % (plan['uuid'], plan['uuid']))
            return False
        self.err.print('Start the %d actions of plan %s for %s? [y/N] ' % (
            len(actions), plan['uuid'], host), end='', markup=False)
        answer = stdin.readline().strip().lower()
        if answer in ('y', 'yes'):
            return True
        self.error('Not started. The plan stays RECOMMENDED: start it '
                   'with `openstack optimize actionplan start %s`.'
                   % plan['uuid'])
        return False


@dataclasses.dataclass
class _Run:
    """What the steps of enter/exit hand on to each other."""

    host: str
    args: argparse.Namespace
    ops: watcher_ops.WatcherOps
    reader: nova.NovaReader
    document: dict          # the -f json|yaml document, filled as we go
    audit: dict | None = None
    plan: dict | None = None
    actions: list = dataclasses.field(default_factory=list)


class _Finished(Exception):
    """Ends enter/exit early with an exit code, after emitting the
    document unless ``emit`` is false."""

    def __init__(self, code, emit=True):
        super().__init__(code)
        self.code = code
        self.emit = emit


class EnterMaintenance(PlanCommand):
    """Drain a compute node: disable it and move its guests away.

    Runs a cluster_maintenance / host_drain audit, shows its action plan
    and efficacy indicators, and (after confirmation) starts the plan.
    """

    strategy = names.DRAIN_STRATEGY
    verb = 'drain'

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--backup-node', metavar='HOST',
            help='A node that takes every guest if it has room.')
        return parser

    def parameters(self, parsed_args):
        if parsed_args.backup_node:
            return {'backup_node': parsed_args.backup_node}
        return {}


class ExitMaintenance(PlanCommand):
    """Bring a compute node back from maintenance (host_restore).

    Enables the node's nova-compute service if host_drain disabled it
    (or with --force), and with --return-guests drained moves back the
    guests the last drain moved away.
    """

    strategy = names.RESTORE_STRATEGY
    verb = 'restore'

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument(
            '--return-guests', choices=options.RETURN_GUESTS,
            default=options.RETURN_NONE,
            help='"drained": migrate back the guests the last drain of '
                 'this node moved away. Default: none.')
        parser.add_argument(
            '--force', action='store_true',
            help='Enable the node even if its service was disabled for '
                 'another reason than %s.' % names.MAINTAINING_REASON)
        return parser

    def parameters(self, parsed_args):
        params = {'return_guests': parsed_args.return_guests}
        if parsed_args.force:
            params['force'] = True
        return params


class ShowMaintenance(MaintenanceCommand):
    """Maintenance status of a compute node.

    The node's nova-compute service status and reason, the guests still
    on it, and the latest maintenance audit and action plan with what
    happened to each guest.
    """

    def take_action(self, parsed_args):
        self.setup_output(parsed_args)
        host = parsed_args.host
        ops, reader = self.watcher(), self.nova()
        service = reader.service(host)
        guests = reader.guests_on(host)
        audit = ops.latest_audit(host)
        plan = ops.plan_of(audit['uuid']) if audit else None
        actions = ops.actions_of(plan['uuid']) if plan else []
        results = render.result_rows(actions, reader.guest, plan['state'],
                                     host) if plan else []
        document = {
            'host': host, 'service': service,
            'guests': None if guests is None else [
                {'guest': g['name'], 'project': g['project'],
                 'status': g['status']} for g in guests],
            'audit': render.summary(audit, (
                'uuid', 'strategy_name', 'state', 'status_message',
                'created_at')),
            'plan': render.summary(plan),
            'results': results,
        }
        if self.fmt != 'table':
            self.emit(document)
            return OK
        render.print_fields(self.out, 'Node %s' % host, [
            ('nova-compute', self._service_text(service)),
            ('guests on node', 'unknown' if guests is None else len(guests)),
            ('latest audit', self._audit_text(audit)),
            ('action plan', '%s %s' % (plan['uuid'], plan['state'])
             if plan else '-'),
        ])
        if guests:
            render.print_guests(self.out, 'Guests still on %s' % host,
                                document['guests'])
        if results:
            render.print_results(self.out, 'Guests of action plan %s' %
                                 plan['uuid'], results)
        return OK

    @staticmethod
    def _service_text(service):
        if service is None:
            return 'unknown (Nova could not be read)'
        if not service:
            return 'no nova-compute service on this host'
        text = '%s, %s' % (service['status'], service['state'])
        # Nova clears the reason on enabling; a leftover is meaningless.
        if service['status'] == 'disabled' and service.get('disabled_reason'):
            text += ', reason: %s' % service['disabled_reason']
        return text

    @staticmethod
    def _audit_text(audit):
        if audit is None:
            return 'none (no maintenance audit for this node)'
        text = '%s %s %s' % (audit['uuid'], audit.get('strategy_name')
                             or '', audit['state'])
        if audit.get('status_message'):
            text += ': %s' % audit['status_message']
        return text

"""``openstack optimize maintenance roll``: a rolling maintenance campaign.

The hosts are taken out of service in batches of at most
``--max-unavailable``: each batch is drained together (one ``host_drain``
audit with ``maintenance_nodes``), the operator's command runs on each
host, the command waits until their nova-compute services report up,
and each host leaves maintenance (``host_restore``) before the next batch
starts.

Before the first move, the whole campaign is played through the planning
core on Watcher's compute model (``planning.campaign``), so a campaign
that cannot fit is refused up front. The campaign keeps no state of its
own: its audits are named ``roll-<campaign>-...``, and a second run of
the same command counts a host as done when the campaign's
``host_restore`` audit of that host has a SUCCEEDED plan, so it carries
on where the last run stopped.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import hashlib
import subprocess
import time
import uuid

from watcher_maintenance import names
from watcher_maintenance.cli import commands
from watcher_maintenance.cli import inventory
from watcher_maintenance.cli import render
from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.cli.watcher_ops import Deadline
from watcher_maintenance.cli.watcher_ops import TimedOut
from watcher_maintenance.planning import campaign as planned_campaign
from watcher_maintenance.planning import options
from watcher_maintenance.planning.plan import PlanningRefused

HOST_COLUMNS = ('host', 'batch', 'start', 'end', 'guests moved', 'result')


def _at_least_one(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError('must be at least 1')
    return value


def campaign_id(hosts) -> str:
    """The same hosts give the same campaign, whatever their order."""
    return hashlib.sha1(','.join(sorted(hosts)).encode()).hexdigest()[:8]


@dataclasses.dataclass
class HostRow:
    host: str
    batch: int | None = None
    start: str = ''
    end: str = ''
    guests_moved: int = 0
    result: str = 'pending'

    def as_dict(self):
        return {'host': self.host, 'batch': self.batch, 'start': self.start,
                'end': self.end, 'guests moved': self.guests_moved,
                'result': self.result}


class Stop(Exception):
    """The campaign stops here; ``code`` is the command's exit code."""

    def __init__(self, message, code=commands.FAILED):
        super().__init__(message)
        self.message = message
        self.code = code


class RollMaintenance(commands.OutputCommand):
    """Roll maintenance through many hosts, a batch at a time.

    Each batch is drained together, maintained (your --exec command, or
    your confirmation), waited for until its nova-compute services are up,
    and brought back before the next batch starts. The whole campaign is
    checked to fit before anything moves. Run the same command again to
    carry on after a failure.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('hosts', metavar='HOST', nargs='*',
                            help='Compute hosts to maintain, in this order '
                                 'where it fits.')
        parser.add_argument('--aggregate', metavar='NAME',
                            help='Every host of this host aggregate.')
        parser.add_argument('--zone', metavar='AZ',
                            help='Every compute host of this availability '
                                 'zone.')
        parser.add_argument('--max-unavailable', type=_at_least_one,
                            default=1, metavar='N',
                            help='Hosts out of service at once (default 1).')
        parser.add_argument('--exec', dest='command', metavar='CMD',
                            help='Run for each host of a batch once it is '
                                 'empty, with {host} replaced, e.g. '
                                 '"ssh {host} sudo reboot". Without it, the '
                                 'command asks you to confirm each batch '
                                 'is done.')
        parser.add_argument('--return-guests', choices=options.RETURN_GUESTS,
                            default=options.RETURN_NONE,
                            help='"drained": migrate each batch\'s guests '
                                 'back when it leaves maintenance.')
        parser.add_argument('--dry-run', action='store_true',
                            help='Show the batches and their plans; start '
                                 'nothing.')
        parser.add_argument('--yes', action='store_true',
                            help='Start without asking.')
        parser.add_argument('--timeout', type=commands.positive_seconds,
                            metavar='SECONDS',
                            help='Give up waiting for an audit, a plan or '
                                 'a host to come back after this long '
                                 '(default: no limit).')
        return parser

    # -- the campaign -----------------------------------------------------

    def take_action(self, parsed_args):
        self.setup_output(parsed_args)
        self.args = parsed_args
        self.ops = self.watcher()
        self.reader = self.nova()
        rows = {}
        try:
            hosts = self.hosts()
            self.id = campaign_id(hosts)
            rows.update((h, HostRow(h)) for h in hosts)
            done = self.done_hosts()
            for host in done:
                rows[host].result = 'done earlier'
            remaining = self.resume_order(
                [h for h in hosts if h not in done])
            plan = self.precheck(remaining)
            self.show_batches(plan, done)
            if parsed_args.dry_run or not plan.batches:
                self.report(rows)
                return commands.OK
            self.confirm('Roll maintenance through %d host(s) in %d '
                         'batch(es) of at most %d?' % (
                             len(remaining), len(plan.batches),
                             parsed_args.max_unavailable))
            for number, batch in enumerate(plan.batches, 1):
                self.run_batch(number, len(plan.batches), batch.nodes, rows)
                self.say.print('%d/%d host(s) done' % (
                    sum(r.result in ('done', 'done earlier')
                        for r in rows.values()), len(rows)), markup=False)
        except Stop as stop:
            self.error(stop.message)
            self.report(rows)
            return stop.code
        self.say.print('Campaign %s done: %d host(s) maintained.' % (
            self.id, len(rows)), markup=False)
        self.report(rows)
        return commands.OK

    def hosts(self):
        args = self.args
        chosen = [bool(args.hosts), bool(args.aggregate), bool(args.zone)]
        if sum(chosen) != 1:
            raise Stop('Name the hosts to maintain in one way: a list of '
                       'hosts, --aggregate NAME, or --zone AZ.')
        if args.hosts:
            return list(dict.fromkeys(args.hosts))
        compute = self.reader.compute
        if compute is None:
            raise Stop('--aggregate and --zone need Nova, and no compute '
                       'client could be made. Name the hosts instead.')
        if args.aggregate:
            for aggregate in compute.aggregates():
                if aggregate.name == args.aggregate:
                    if not aggregate.hosts:
                        raise Stop('Host aggregate %s has no hosts.'
                                   % args.aggregate)
                    return sorted(aggregate.hosts)
            raise Stop('There is no host aggregate %s. List them with '
                       '`openstack aggregate list`.' % args.aggregate)
        hosts = sorted({s.host for s in compute.services(
            binary='nova-compute') if s.availability_zone == args.zone})
        if not hosts:
            raise Stop('No compute host is in availability zone %s. List '
                       'zones with `openstack availability zone list '
                       '--compute`.' % args.zone)
        return hosts

    def done_hosts(self):
        """Hosts whose exit audit of this campaign SUCCEEDED, from
        Watcher's records."""
        prefix = 'roll-%s-' % self.id
        done = set()
        for audit in self.ops.client.audit.list(
                strategy=names.RESTORE_STRATEGY, detail=True, limit=0):
            audit = watcher_ops.as_dict(audit)
            if not (audit.get('name') or '').startswith(prefix):
                continue
            plan = self.ops.plan_of(audit['uuid'])
            host = (audit.get('parameters') or {}).get('maintenance_node')
            if plan is not None and plan['state'] == 'SUCCEEDED' and host:
                done.add(host)
        return done

    def resume_order(self, hosts):
        # Hosts a stopped run left in maintenance go first: their drain
        # has nothing left to move, and they should not wait.
        waiting = [h for h in hosts if (self.reader.service(h) or {}).get(
            'disabled_reason') == names.MAINTAINING_REASON]
        return waiting + [h for h in hosts if h not in waiting]

    def precheck(self, hosts):
        model = watcher_ops.as_dict(
            self.ops.client.data_model.list(data_model_type='compute'))
        known, guests = inventory.from_data_model(model.get('context') or [])
        try:
            return planned_campaign.plan_campaign(
                hosts, known, guests, self.args.max_unavailable,
                return_guests=self.args.return_guests ==
                options.RETURN_DRAINED)
        except PlanningRefused as refusal:
            raise Stop('Nothing was started. %s' % refusal.message)

    def show_batches(self, plan, done):
        if done:
            self.say.print('Campaign %s: %d host(s) done earlier (%s).' % (
                self.id, len(done), ', '.join(sorted(done))), markup=False)
        if plan.reordered:
            self.say.print('The listed order does not fit; the batches '
                           'below do.', markup=False)
        rows = [{'batch': n, 'hosts': ', '.join(b.nodes),
                 'plan': b.plan.summary()}
                for n, b in enumerate(plan.batches, 1)]
        if self.fmt == 'table':
            self.out.print(render.table('Campaign %s' % self.id,
                                        ('batch', 'hosts', 'plan'), rows))
        self.document = {'campaign': self.id, 'batches': rows}

    def confirm(self, question):
        if self.args.yes:
            return
        stdin = self.app.stdin
        if stdin is None or not stdin.isatty():
            raise Stop('Not started: there is no terminal to confirm on. '
                       'Rerun with --yes.', commands.NOT_CONFIRMED)
        self.err.print(question + ' [y/N] ', end='', markup=False)
        if stdin.readline().strip().lower() not in ('y', 'yes'):
            raise Stop('Not started.', commands.NOT_CONFIRMED)

    def run_batch(self, number, total, nodes, rows):
        label = ', '.join(nodes)
        self.say.print('Batch %d/%d: draining %s' % (number, total, label),
                       markup=False)
        for host in nodes:
            rows[host].batch = number
            rows[host].start = _now()
            rows[host].result = 'draining'
        plan = self.run_audit(names.DRAIN_STRATEGY, 'enter',
                              {'maintenance_nodes': list(nodes)}, label)
        moved = self.moved_from(plan)
        for host in nodes:
            rows[host].guests_moved = moved.get(host, 0)
            rows[host].result = 'in maintenance'
        self.maintain(nodes)
        self.wait_up(nodes)
        for host in nodes:
            self.say.print('%s leaves maintenance' % host, markup=False)
            self.run_audit(names.RESTORE_STRATEGY, 'exit-%s' % host,
                           {'maintenance_node': host,
                            'return_guests': self.args.return_guests},
                           host)
            rows[host].end = _now()
            rows[host].result = 'done'

    def run_audit(self, strategy, step, parameters, label):
        """Audit, plan, start, follow; the SUCCEEDED plan or Stop."""
        deadline = Deadline(self.args.timeout)
        # Unique (Watcher refuses a name twice), and findable by the
        # campaign's prefix even when a long host name is cut.
        name = 'roll-%s-%s-%s' % (self.id, uuid.uuid4().hex[:6], step)
        audit = watcher_ops.as_dict(self.ops.client.audit.create(
            audit_type='ONESHOT', goal=names.GOAL, strategy=strategy,
            parameters=parameters, name=name[:63], force=True))
        try:
            audit = self.ops.wait_audit(audit['uuid'], deadline)
            if audit['state'] != 'SUCCEEDED':
                raise Stop(
                    'Campaign %s stopped at %s: audit %s %s: %s %s' % (
                        self.id, label, audit['uuid'], audit['state'],
                        audit.get('status_message') or 'no reason given.',
                        self.next_step()))
            plan = self.ops.plan_of(audit['uuid'])
            if plan is None or plan['state'] == 'SUCCEEDED':
                return plan     # nothing to do: an empty plan is done
            self.ops.start_plan(plan['uuid'])
            with self.plan_progress(self.reader) as bar:
                plan = self.ops.follow_plan(plan['uuid'], deadline,
                                            on_poll=bar.update)
        except TimedOut as late:
            raise Stop('Campaign %s stopped at %s: gave up after %g s on '
                       '%s, still %s (Watcher carries on). %s' % (
                           self.id, label, late.seconds, late.uuid,
                           late.state, self.next_step()),
                       commands.TIMED_OUT)
        if plan['state'] != 'SUCCEEDED':
            raise Stop('Campaign %s stopped at %s: action plan %s %s%s. %s'
                       % (self.id, label, plan['uuid'], plan['state'],
                          ' (%s)' % plan['status_message']
                          if plan.get('status_message') else '',
                          self.next_step()))
        return plan

    def moved_from(self, plan):
        moved = {}
        if plan is None:
            return moved
        for action in self.ops.actions_of(plan['uuid']):
            params = action.get('input_parameters') or {}
            if action['action_type'] == names.MIGRATE and \
                    action['state'] == 'SUCCEEDED':
                source = params.get('source_node')
                moved[source] = moved.get(source, 0) + 1
        return moved

    def maintain(self, nodes):
        if not self.args.command:
            if self.args.yes:
                return
            self.confirm('Batch %s is empty and out of service. Maintain '
                         'it now; is it done?' % ', '.join(nodes))
            return
        for host in nodes:
            command = self.args.command.replace('{host}', host)
            self.say.print('$ %s' % command, markup=False)
            result = subprocess.run(command, shell=True, check=False)
            if result.returncode:
                raise Stop('Campaign %s stopped: `%s` exited with %d. %s '
                           'is still in maintenance. %s' % (
                               self.id, command, result.returncode, host,
                               self.next_step()))

    def wait_up(self, nodes):
        deadline = Deadline(self.args.timeout)
        while True:
            states = {h: (self.reader.service(h) or {}).get('state')
                      for h in nodes}
            if all(state == 'up' for state in states.values()):
                return
            if deadline.expired():
                raise Stop('Campaign %s stopped: %s did not come back up '
                           'within %g s. %s' % (
                               self.id, ', '.join(
                                   h for h, s in states.items()
                                   if s != 'up'),
                               self.args.timeout, self.next_step()),
                           commands.TIMED_OUT)
            time.sleep(self.poll_interval)

    def next_step(self):
        return ('Hosts already done stay done; the failed batch stays in '
                'maintenance. Fix the cause, then run the same command '
                'again to carry on.')

    def report(self, rows):
        table = [row.as_dict() for row in rows.values()]
        if self.fmt == 'table':
            if table:
                self.out.print(render.table('Hosts', HOST_COLUMNS, table))
            return
        document = dict(getattr(self, 'document', {}) or {},
                        hosts=table)
        self.emit(document)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        '%Y-%m-%d %H:%M:%S')

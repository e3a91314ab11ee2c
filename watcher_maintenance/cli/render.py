"""Presentation of plans, results and node status. No I/O but the console.

The row builders take the API's JSON (dicts) and a ``guest(uuid)``
lookup (Nova's view of a server, or None) and return plain dicts, which
feed both the rich tables and the ``-f json|yaml`` documents.
"""

from __future__ import annotations

import json
import time

from watcher_maintenance import names
from watcher_maintenance.planning import progress
from watcher_maintenance.planning import wording

SLEEP = 'sleep'
GUEST_ACTIONS = (names.MIGRATE, names.STOP, names.START)

PLAN_COLUMNS = ('step', 'action', 'target', 'from', 'to', 'how')
RESULT_COLUMNS = ('guest', 'project', 'from', 'to', 'live/cold', 'result',
                  'message')
GUEST_COLUMNS = ('guest', 'project', 'status')

UNKNOWN = '?'
RESULTS = {'SUCCEEDED': 'done', 'FAILED': 'FAILED', 'CANCELLED': 'cancelled',
           'SKIPPED': 'skipped', 'ONGOING': 'running', 'PENDING': 'not run'}


def _params(action):
    return action.get('input_parameters') or {}


def _name(action, guest):
    params = _params(action)
    if params.get('resource_name'):
        return params['resource_name']
    if guest and guest.get('name'):
        return guest['name']
    return params.get('resource_id') or UNKNOWN


def _verb(kind):
    return 'start' if kind == names.START else 'stop'


def plan_rows(actions, guest, node=None):
    """One row per action, in run order."""
    rows = []
    for step, action in enumerate(actions, 1):
        params = _params(action)
        kind = action['action_type']
        row = dict.fromkeys(PLAN_COLUMNS, '')
        row.update(step=step, action=kind)
        if kind == names.MIGRATE:
            row.update(action='migrate',
                       target=_name(action, guest(params.get('resource_id'))),
                       how=params.get('migration_type', ''))
            row['from'] = params.get('source_node') or node or ''
            row['to'] = params.get('destination_node') or 'scheduler'
        elif kind == names.START:
            row.update(action='start',
                       target=_name(action, guest(params.get('resource_id'))),
                       how='start again (stopped by the drain)')
            row['from'] = node or ''
        elif kind == names.STOP:
            row.update(action='stop',
                       target=_name(action, guest(params.get('resource_id'))),
                       how='stop in place')
            row['from'] = node or ''
        elif kind == names.CHANGE_SERVICE_STATE:
            how = params.get('state', '')
            if params.get('disabled_reason'):
                how += ' (%s)' % params['disabled_reason']
            row.update(action='nova-compute',
                       target=params.get('resource_name', ''), how=how)
        elif kind == SLEEP:
            row.update(action='pause', how='%g s' % float(
                params.get('duration', 0)))
        elif kind == names.CHECKPOINT:
            duration = float(params.get('duration', 0) or 0)
            steps = ['stop if anything failed']
            if duration:
                steps.append('pause %g s' % duration)
            if params.get('migrations'):
                steps.append('re-check the wave')
            if params.get('empty_node'):
                steps.append('check the node is empty')
                row['target'] = params['empty_node']
            row.update(action='checkpoint', how=', '.join(steps))
        else:
            row.update(target=params.get('resource_name')
                       or params.get('resource_id', ''))
        rows.append(row)
    return rows


def result_rows(actions, guest, plan_state, node=None):
    """One row per guest the plan moves or stops, with what happened."""
    rows = []
    for action in actions:
        kind = action['action_type']
        if kind not in GUEST_ACTIONS:
            continue
        params = _params(action)
        nova = guest(params.get('resource_id'))
        state = action.get('state') or ''
        row = {
            'guest': _name(action, nova),
            'project': (nova or {}).get('project') or UNKNOWN,
            'from': params.get('source_node') or node or '',
            'to': (params.get('destination_node') or 'scheduler'
                   if kind == names.MIGRATE else '-'),
            'live/cold': (params.get('migration_type', '')
                          if kind == names.MIGRATE else _verb(kind)),
            'result': RESULTS.get(state, state.lower()),
            'message': _message(action, nova, plan_state),
        }
        rows.append(row)
    return rows


def _message(action, nova, plan_state):
    text = action.get('status_message') or ''
    state = action.get('state')
    if state == 'SUCCEEDED':
        if (action['action_type'] == names.MIGRATE and nova
                and nova.get('host')
                and nova['host'] != _params(action).get(
                    'destination_node', nova['host'])):
            return 'Nova now shows it on %s' % nova['host']
        return text
    if text:
        return text
    where = ''
    if nova and nova.get('host'):
        where = 'Nova shows it on %s, %s' % (nova['host'], nova['status'])
    if state == 'FAILED':
        return '; '.join(p for p in (
            'Watcher recorded no reason (see the applier log)', where) if p)
    if state == 'PENDING' and plan_state in ('FAILED', 'CANCELLED'):
        return 'not started: the plan ended %s first' % plan_state.lower()
    return where


NOT_DONE = ('FAILED', 'cancelled', 'skipped', 'not run')


def failed(results):
    """Rows of guests the plan did not move (or stop) as planned."""
    return [r for r in results if r['result'] in NOT_DONE]


def indicators(plan):
    """``[{'name', 'value', 'unit', 'description'}]``, global ones first."""
    rows = []
    for item in list((plan or {}).get('global_efficacy') or []) + list(
            (plan or {}).get('efficacy_indicators') or []):
        rows.append({'name': item.get('name'),
                     'value': wording.rounded(item.get('value')),
                     'unit': item.get('unit') or '',
                     'description': item.get('description') or ''})
    return rows


def progress_counts(actions):
    done = sum(1 for a in actions if a.get('state') in (
        'SUCCEEDED', 'FAILED', 'CANCELLED', 'SKIPPED'))
    return done, len(actions)


def current_step(actions, guest):
    """A short phrase for what the plan is doing now."""
    running = [a for a in actions if a.get('state') == 'ONGOING']
    if not running:
        return 'waiting for the applier'
    phrases = []
    for row, action in zip(plan_rows(running, guest), running):
        if action['action_type'] == names.MIGRATE:
            phrases.append('%s %s -> %s' % (row['target'], row['from'],
                                            row['to']))
        else:
            phrases.append(('%s %s %s' % (row['action'], row['target'],
                                          row['how'])).strip())
    return ', '.join(phrases)


# -- documents (-f json / yaml) ---------------------------------------------

def summary(item, fields=('uuid', 'state', 'status_message')):
    if not item:
        return None
    return {field: item.get(field) for field in fields}


def dump(document, fmt):
    if fmt == 'yaml':
        import yaml
        return yaml.safe_dump(document, sort_keys=False,
                              default_flow_style=False)
    return json.dumps(document, indent=2) + '\n'


# -- tables -----------------------------------------------------------------

def table(title, columns, rows):
    """A rich table with one column per name, one row per dict."""
    from rich.table import Table
    shown = Table(title=title, title_justify='left', show_lines=False)
    for column in columns:
        shown.add_column(column, overflow='fold')
    for row in rows:
        shown.add_row(*('' if row.get(c) is None else str(row.get(c))
                        for c in columns))
    return shown


def print_plan(console, plan, rows, indicator_rows):
    title = 'Action plan %s (%s)' % (plan['uuid'], plan['state'])
    console.print(table(title, PLAN_COLUMNS, rows))
    if indicator_rows:
        console.print(table('Efficacy indicators',
                            ('name', 'value', 'unit', 'description'),
                            indicator_rows))


def print_results(console, title, rows):
    console.print(table(title, RESULT_COLUMNS, rows))


def print_guests(console, title, rows):
    console.print(table(title, GUEST_COLUMNS, rows))


def print_fields(console, title, fields):
    from rich.table import Table
    table = Table(title=title, title_justify='left', show_header=False)
    table.add_column('field', style='bold')
    table.add_column('value', overflow='fold')
    for key, value in fields:
        table.add_row(key, '' if value is None else str(value))
    console.print(table)


def size(n):
    """Bytes in the largest binary unit that keeps a digit before the
    point: 3221225472 -> '3.0 GiB'."""
    for unit, scale in (('GiB', 1024 ** 3), ('MiB', 1024 ** 2),
                        ('KiB', 1024)):
        if abs(n) >= scale:
            return '%.1f %s' % (n / scale, unit)
    return '%d B' % n


def duration(seconds):
    """75 -> '1 min 15 s'; 3725 -> '1 h 02 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return '%d s' % seconds
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return '%d min %02d s' % (minutes, seconds)
    hours, minutes = divmod(minutes, 60)
    return '%d h %02d min' % (hours, minutes)


def _live(action, state):
    return (action['action_type'] == names.MIGRATE
            and action.get('state') == state
            and _params(action).get('migration_type') == 'live')


class MigrationWatch:
    """Each running live migration's progress and the plan's ETA.

    ``migrations(uuid)`` reads a server's migrations in flight from Nova
    (``NovaReader.migrations``); ``guest(uuid)`` gives a waiting guest's
    memory. The arithmetic is the planning core's ``PlanEta``.
    """

    def __init__(self, migrations, guest, clock=time.monotonic):
        self._migrations = migrations
        self._guest = guest
        self._clock = clock
        self._eta = progress.PlanEta()

    def phrases(self, actions):
        """(one phrase per running live migration, the ETA phrase)."""
        running, rows = {}, {}
        live = [a for a in actions if _live(a, 'ONGOING')]
        for row, action in zip(plan_rows(live, self._guest), live):
            uuid = _params(action).get('resource_id')
            for m in self._migrations(uuid) or []:
                key = '%s/%s' % (uuid, m['id'])
                running[key] = progress.Transfer(m['total'], m['processed'],
                                                 m['remaining'])
                rows[key] = row
        waiting = 0
        for action in actions:
            if _live(action, 'PENDING'):
                guest = self._guest(_params(action).get('resource_id'))
                if not guest or guest.get('memory_mb') is None:
                    waiting = None
                    break
                waiting += guest['memory_mb'] * 1024 * 1024
        estimate = self._eta.observe(self._clock(), running, waiting or 0)
        phrases = []
        for key, transfer in running.items():
            row, rate = rows[key], estimate.rates.get(key)
            phrases.append('%s %s -> %s: %d%% of %s at %s' % (
                row['target'], row['from'], row['to'], transfer.percent,
                size(transfer.total),
                '%s/s' % size(rate) if rate is not None else '? B/s'))
        if waiting is None or estimate.eta is None:
            eta = 'plan ETA unknown yet'
        else:
            eta = 'plan ETA %s' % duration(estimate.eta)
        return phrases, eta


class PlanProgress:
    """A rich progress bar over a plan's actions (on the error stream).

    With a ``MigrationWatch``, the bar names each running live
    migration's percentage and data rate and the plan's ETA. A console
    that is not a terminal (a log, a pipe) gets those as one line per
    poll instead, since a progress bar is only drawn at its end there.
    """

    def __init__(self, console, guest, watch=None):
        from rich import progress as rich_progress
        self._guest = guest
        self._watch = watch
        self._console = console
        self._progress = rich_progress.Progress(
            rich_progress.TextColumn('{task.description}'),
            rich_progress.BarColumn(),
            rich_progress.MofNCompleteColumn(),
            rich_progress.TextColumn('actions'),
            rich_progress.TimeElapsedColumn(),
            console=console, transient=False)
        self._task = None

    def __enter__(self):
        self._progress.__enter__()
        self._task = self._progress.add_task('starting', total=None)
        return self

    def __exit__(self, *exc):
        return self._progress.__exit__(*exc)

    def update(self, plan, actions):
        done, total = progress_counts(actions)
        if plan['state'] in ('SUCCEEDED', 'FAILED', 'CANCELLED',
                             'SUPERSEDED'):
            description = 'plan %s' % plan['state']
        else:
            description = current_step(actions, self._guest)
            if self._watch is not None:
                migrating, eta = self._watch.phrases(actions)
                description = '; '.join(
                    (migrating or [description]) + [eta])
                if migrating and not self._console.is_terminal:
                    self._console.print('%d/%d actions: %s' % (
                        done, total, description), markup=False)
        self._progress.update(self._task, completed=done, total=total,
                              description=description)

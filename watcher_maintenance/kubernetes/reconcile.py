"""One reconcile step: what a Node's drain or restore needs next.

Pure: a snapshot of the Node (``NodeView``), its nova-compute service
(``ServiceView``) and the Watcher audit and plan the Node's annotations
point at (``WatcherView``) go in, one ``Step`` comes out. The kopf
handlers (``handlers.py``) build the snapshot, carry the step out and
call again on the next tick, so every decision is here and testable
without Kubernetes, Watcher or Nova.

The life of a Node, as its ``state`` annotation shows it::

    cordon -> Pending -> (Queued) -> (AwaitingApproval) -> Draining
           -> Drained | Failed
    uncordon -> Restoring -> Restored | RestoreFailed

Nothing here sleeps or retries: a step that has to wait says so, and
the next tick looks again.
"""

from __future__ import annotations

import dataclasses
import hashlib

from watcher_maintenance import names

AUDIT_NAME_LIMIT = 63    # Watcher's audits.name column
DRAIN = names.DRAIN_STRATEGY
RESTORE = names.RESTORE_STRATEGY

# Node states (the ``state`` annotation).
PENDING = 'Pending'
QUEUED = 'Queued'
AWAITING_APPROVAL = 'AwaitingApproval'
DRAINING = 'Draining'
DRAINED = 'Drained'
FAILED = 'Failed'
RESTORING = 'Restoring'
RESTORED = 'Restored'
RESTORE_FAILED = 'RestoreFailed'

DRAIN_STATES = (PENDING, QUEUED, AWAITING_APPROVAL, DRAINING, DRAINED,
                FAILED)
RESTORE_STATES = (RESTORING, RESTORED, RESTORE_FAILED)

AUDIT_RUNNING = ('PENDING', 'ONGOING')
PLAN_RUNNING = ('PENDING', 'ONGOING', 'CANCELLING')
# A plan Watcher replaced, or an audit it cancelled because another plan
# was running (Watcher 17, ``pre_execute``): ask again, it is not a
# refusal.
PLAN_ASK_AGAIN = ('SUPERSEDED',)
AUDIT_ASK_AGAIN = ('CANCELLED',)

# Step kinds.
NOTHING = 'nothing'            # settled; no more ticks needed
WAIT = 'wait'                  # something runs; look again next tick
WARN_UNMAPPED = 'warn-unmapped'
BEGIN = 'begin'                # new request id, state Pending
QUEUE = 'queue'                # others busy; state Queued, retry
CREATE_AUDIT = 'create-audit'
ASK_APPROVAL = 'ask-approval'
START_PLAN = 'start-plan'
CANCEL_PLAN = 'cancel-plan'
MARK = 'mark'                  # set state (and message), post an Event


@dataclasses.dataclass(frozen=True)
class NodeView:
    """What the controller reads from the Node."""

    name: str
    cordoned: bool
    state: str | None = None
    request_id: str | None = None
    attempt: int = 0
    audit: str | None = None
    action_plan: str | None = None
    approved: bool = False


@dataclasses.dataclass(frozen=True)
class ServiceView:
    """The node's nova-compute service; ``host`` None if not mapped."""

    host: str | None
    unmapped_reason: str | None = None
    status: str | None = None          # 'enabled' / 'disabled'
    disabled_reason: str | None = None
    guests_left: int | None = None     # on the host, from Nova


@dataclasses.dataclass(frozen=True)
class WatcherView:
    """The audit and plan the Node points at, and whether Watcher is busy.

    ``busy`` names another audit or plan that is running (it would make
    Watcher 17 cancel a new ONESHOT audit without ``force``), or is None.
    """

    audit: dict | None = None
    plan: dict | None = None
    busy: str | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    approval_required: bool = False
    # Create audits with ``force`` instead of queueing behind others
    # (``settings.Settings.force_audits``).
    force_audits: bool = False
    return_guests: str | None = None   # host_restore's return_guests


@dataclasses.dataclass(frozen=True)
class Step:
    kind: str
    state: str | None = None
    message: str | None = None
    warning: bool = False
    strategy: str | None = None
    audit_name: str | None = None
    parameters: dict | None = None
    force: bool = False
    plan: str | None = None


def audit_name(strategy, host, request_id, attempt):
    """Unique per request and attempt, so a restarted controller adopts
    the audit it created (Watcher answers 409 to a second one)."""
    kind = 'drain' if strategy == DRAIN else 'restore'
    name = 'k8s-%s-%s-%s-%d' % (kind, host, request_id, attempt)
    if len(name) > AUDIT_NAME_LIMIT:    # long FQDNs: keep it unique
        digest = hashlib.sha1(host.encode()).hexdigest()[:8]
        name = 'k8s-%s-%s-%s-%s-%d' % (kind, host[:24], digest,
                                       request_id, attempt)
    return name[:AUDIT_NAME_LIMIT]


def step(node, service, watcher, options=Options()):
    """The next ``Step`` for this Node."""
    if node.cordoned:
        if node.state not in DRAIN_STATES:
            return Step(BEGIN, state=PENDING,
                        message='Cordoned: draining the hypervisor '
                                'through Watcher.')
    elif node.state is None or node.state in (RESTORED, RESTORE_FAILED):
        return Step(NOTHING)

    if service.host is None:
        return Step(WARN_UNMAPPED, message=service.unmapped_reason,
                    warning=True)
    if node.cordoned:
        return _drain(node, service, watcher, options)
    return _restore(node, service, watcher, options)


def _ask(node, service, watcher, options, strategy, parameters):
    """Create the audit, or queue while Watcher would cancel it."""
    if watcher.busy and not options.force_audits:
        verb = 'drain' if strategy == DRAIN else 'restore'
        return Step(QUEUE, state=QUEUED if strategy == DRAIN else RESTORING,
                    message='Waiting to %s %s: %s is running and Watcher '
                    'would cancel a new audit now; retrying when it ends.'
                    % (verb, service.host, watcher.busy))
    params = dict(parameters, maintenance_node=service.host)
    return Step(CREATE_AUDIT, strategy=strategy, parameters=params,
                force=options.force_audits,
                audit_name=audit_name(strategy, service.host,
                                      node.request_id, node.attempt))


def _drain(node, service, watcher, options):
    if node.state in (DRAINED, FAILED):
        return Step(NOTHING)
    if node.audit is None:
        return _ask(node, service, watcher, options, DRAIN, {})
    unfinished = _audit_unfinished(watcher.audit, service, DRAIN)
    if unfinished:
        return unfinished
    plan = watcher.plan
    if plan is None or plan['state'] == 'SUCCEEDED':
        return _drain_done(service, plan)
    if plan['state'] == 'RECOMMENDED':
        if options.approval_required and not node.approved:
            if node.state == AWAITING_APPROVAL:
                return Step(WAIT)
            return Step(ASK_APPROVAL, state=AWAITING_APPROVAL, message=(
                'Action plan %s drains %s; approve it with `kubectl '
                'annotate node %s watcher-maintenance.openstack.org/'
                'approve=true` or start it with `openstack optimize '
                'actionplan start %s`.' % (plan['uuid'], service.host,
                                           node.name, plan['uuid'])))
        return Step(START_PLAN, plan=plan['uuid'], state=DRAINING,
                    message='Started action plan %s to drain %s.'
                    % (plan['uuid'], service.host))
    if plan['state'] in PLAN_RUNNING:
        if node.state != DRAINING:
            return Step(MARK, state=DRAINING, message=(
                'Action plan %s is draining %s.'
                % (plan['uuid'], service.host)))
        return Step(WAIT)
    if plan['state'] in PLAN_ASK_AGAIN:
        return Step(QUEUE, state=QUEUED, message=(
            'Watcher superseded action plan %s of %s; asking again.'
            % (plan['uuid'], service.host)))
    return _failed(FAILED, 'Draining %s failed: action plan %s %s%s' % (
        service.host, plan['uuid'], plan['state'],
        ': %s' % plan['status_message'] if plan.get('status_message')
        else '.'))


def _audit_unfinished(audit, service, strategy):
    """The step while the audit has not succeeded, else None."""
    if audit is None or audit['state'] in AUDIT_RUNNING:
        return Step(WAIT)
    verb = 'drain' if strategy == DRAIN else 'restore'
    if audit['state'] in AUDIT_ASK_AGAIN:
        return Step(QUEUE, state=QUEUED if strategy == DRAIN else RESTORING,
                    message='Watcher cancelled %s audit %s of %s (%s); '
                    'asking again.' % (verb, audit['uuid'], service.host,
                                       audit.get('status_message')
                                       or 'another plan was running'))
    if audit['state'] != 'SUCCEEDED':
        return _failed(
            FAILED if strategy == DRAIN else RESTORE_FAILED,
            'Watcher refused to %s %s: %s' % (
                verb, service.host, audit.get('status_message')
                or 'audit %s %s' % (audit['uuid'], audit['state'])))
    return None


def _drain_done(service, plan):
    if service.guests_left is None:    # Nova unreadable: cannot confirm
        return Step(WAIT)
    if service.guests_left:
        return _failed(FAILED, (
            '%s still holds %d guest(s) after %s; nothing was lost, but '
            'the node is not empty. See `openstack optimize maintenance '
            'show %s`.' % (service.host, service.guests_left,
                           'action plan %s' % plan['uuid'] if plan
                           else 'an audit with nothing to do',
                           service.host)))
    return Step(MARK, state=DRAINED, message=(
        '%s holds no guest: drained%s.' % (
            service.host, ' by action plan %s' % plan['uuid'] if plan
            else '')))


def _failed(state, sentence):
    return Step(MARK, state=state, warning=True, message=sentence + (
        ' kubectl drain stays held; fix the cause and cordon again, or '
        'annotate the node watcher-maintenance.openstack.org/'
        'release-drain=true to let it through.'
        if state == FAILED else ''))


def _restore(node, service, watcher, options):
    if node.state in DRAIN_STATES:
        plan = watcher.plan
        if plan is not None and plan['state'] in ('PENDING', 'ONGOING'):
            return Step(CANCEL_PLAN, plan=plan['uuid'], message=(
                'Uncordoned while action plan %s drains %s: cancelling it.'
                % (plan['uuid'], service.host)))
        if plan is not None and plan['state'] == 'CANCELLING':
            return Step(WAIT)
        if (service.status == 'disabled'
                and service.disabled_reason != names.MAINTAINING_REASON):
            return Step(MARK, state=RESTORED, warning=True, message=(
                'Uncordoned, but nova-compute on %s stays disabled: it was '
                'disabled by someone else (reason: %s). Enable it with '
                '`openstack compute service set --enable %s nova-compute` '
                'when that work is done.' % (
                    service.host, service.disabled_reason or 'none given',
                    service.host)))
        if service.status != 'disabled' and node.state in (
                PENDING, QUEUED, AWAITING_APPROVAL):
            return Step(MARK, state=RESTORED, message=(
                'Uncordoned before the drain of %s started; nothing to '
                'restore.' % service.host))
        return Step(BEGIN, state=RESTORING, message=(
            'Uncordoned: restoring %s through Watcher.' % service.host))

    # RESTORING
    if node.audit is None:
        parameters = ({'return_guests': options.return_guests}
                      if options.return_guests else {})
        return _ask(node, service, watcher, options, RESTORE, parameters)
    unfinished = _audit_unfinished(watcher.audit, service, RESTORE)
    if unfinished:
        return unfinished
    plan = watcher.plan
    if plan is None or plan['state'] == 'SUCCEEDED':
        return Step(MARK, state=RESTORED, message=(
            'Restored %s: nova-compute is %s.' % (
                service.host, 'enabled' if plan else service.status)))
    if plan['state'] == 'RECOMMENDED':
        return Step(START_PLAN, plan=plan['uuid'], state=RESTORING,
                    message='Started action plan %s to restore %s.'
                    % (plan['uuid'], service.host))
    if plan['state'] in PLAN_RUNNING:
        return Step(WAIT)
    if plan['state'] in PLAN_ASK_AGAIN:
        return Step(QUEUE, state=RESTORING, message=(
            'Watcher superseded action plan %s of %s; asking again.'
            % (plan['uuid'], service.host)))
    return _failed(RESTORE_FAILED, 'Restoring %s failed: action plan %s %s'
                   % (service.host, plan['uuid'], plan['state']))


def drain_held(node, hold_enabled, released):
    """Whether the guard's PodDisruptionBudget should stand.

    It stands unless the hold is off, the operator released it, or the
    hypervisor is drained while the node is cordoned.
    """
    if not hold_enabled or released:
        return False
    return not (node.cordoned and node.state == DRAINED)


def nova_host_for(node_name, annotated, compute_hosts):
    """``(host, None)`` or ``(None, sentence)``: the node's nova host.

    The annotation wins; else the node name; else its short name. Each
    candidate must match exactly one nova-compute service.
    """
    if annotated:
        candidates = [annotated]
    else:
        candidates = [node_name]
        short = node_name.split('.', 1)[0]
        if short != node_name:
            candidates.append(short)
    for candidate in candidates:
        matches = [h for h in compute_hosts if h == candidate]
        if len(matches) == 1:
            return candidate, None
        if len(matches) > 1:
            return None, (
                'Node %s maps to nova host %s, which %d nova-compute '
                'services share; set the annotation watcher-maintenance.'
                'openstack.org/nova-host to the right one.'
                % (node_name, candidate, len(matches)))
    return None, (
        'Node %s matches no nova-compute service (tried %s); set the '
        'annotation watcher-maintenance.openstack.org/nova-host to its '
        'nova host. Nothing will be drained for it.'
        % (node_name, ', '.join(candidates)))

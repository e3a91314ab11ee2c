"""Every transition of the Kubernetes bridge's reconcile step.

A small fake Watcher (audits and plans by uuid) feeds
``reconcile.step`` the way ``OpenStackSide.watcher_view`` does.
"""

import pytest

from watcher_maintenance import names
from watcher_maintenance.kubernetes import reconcile as r

HOST = 'compute-1'
ENABLED = r.ServiceView(host=HOST, status='enabled', guests_left=3)
OURS = r.ServiceView(host=HOST, status='disabled',
                     disabled_reason=names.MAINTAINING_REASON, guests_left=0)
THEIRS = r.ServiceView(host=HOST, status='disabled',
                       disabled_reason='hardware ticket 42', guests_left=0)


class FakeWatcher:
    """Audits and plans as Watcher's API returns them."""

    def __init__(self):
        self.audits, self.plans = {}, {}

    def audit(self, uuid, state, message=None, plan_state=None):
        self.audits[uuid] = {'uuid': uuid, 'state': state,
                             'status_message': message}
        if plan_state:
            self.plans[uuid] = {'uuid': 'plan-' + uuid, 'state': plan_state}

    def view(self, node, busy=None):
        audit = self.audits.get(node.audit)
        plan = self.plans.get(node.audit) if audit and audit[
            'state'] == 'SUCCEEDED' else None
        return r.WatcherView(audit=audit, plan=plan,
                             busy=busy if node.audit is None else None)


def node(state=None, cordoned=True, audit=None, approved=False,
         attempt=0):
    return r.NodeView(name='compute-1.example.org', cordoned=cordoned,
                      state=state, request_id='r7', attempt=attempt,
                      audit=audit, approved=approved)


def run(view, service=ENABLED, watcher=None, busy=None, **options):
    watcher = watcher or FakeWatcher()
    return r.step(view, service, watcher.view(view, busy),
                  r.Options(**options))


# -- cordon ---------------------------------------------------------------

@pytest.mark.parametrize('state', [None, r.RESTORED, r.RESTORE_FAILED,
                                   r.RESTORING])
def test_cordon_begins_a_drain_request(state):
    step = run(node(state))
    assert (step.kind, step.state) == (r.BEGIN, r.PENDING)


def test_unmapped_node_warns_and_drains_nothing():
    service = r.ServiceView(host=None, unmapped_reason='no match')
    step = run(node(r.PENDING), service=service)
    assert (step.kind, step.message, step.warning) == (
        r.WARN_UNMAPPED, 'no match', True)


def test_pending_asks_for_a_drain_audit_with_a_unique_name():
    step = run(node(r.PENDING))
    assert step.kind == r.CREATE_AUDIT
    assert step.strategy == r.DRAIN
    assert step.parameters == {'maintenance_node': HOST}
    assert step.audit_name == 'k8s-drain-compute-1-r7-0'
    assert not step.force


def test_another_attempt_gets_another_name():
    step = run(node(r.QUEUED, attempt=2))
    assert step.audit_name == 'k8s-drain-compute-1-r7-2'


def test_busy_watcher_queues_the_drain_with_a_sentence():
    step = run(node(r.PENDING), busy='action plan p (ONGOING)')
    assert (step.kind, step.state) == (r.QUEUE, r.QUEUED)
    assert 'action plan p (ONGOING) is running' in step.message


def test_force_asks_even_when_busy():
    step = run(node(r.PENDING), busy='action plan p (ONGOING)',
               force_audits=True)
    assert (step.kind, step.force) == (r.CREATE_AUDIT, True)


@pytest.mark.parametrize('state', ['PENDING', 'ONGOING'])
def test_running_audit_waits(state):
    watcher = FakeWatcher()
    watcher.audit('a', state)
    assert run(node(r.PENDING, audit='a'), watcher=watcher).kind == r.WAIT


def test_audit_cancelled_by_watcher_is_queued_again():
    watcher = FakeWatcher()
    watcher.audit('a', 'CANCELLED')
    step = run(node(r.PENDING, audit='a'), watcher=watcher)
    assert (step.kind, step.state) == (r.QUEUE, r.QUEUED)


def test_refused_audit_fails_with_watchers_sentence_and_keeps_holding():
    watcher = FakeWatcher()
    watcher.audit('a', 'FAILED', 'compute-1 hosts a pinned guest')
    step = run(node(r.PENDING, audit='a'), watcher=watcher)
    assert (step.kind, step.state, step.warning) == (r.MARK, r.FAILED, True)
    assert 'compute-1 hosts a pinned guest' in step.message
    assert 'kubectl drain stays held' in step.message


def test_recommended_plan_is_started():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='RECOMMENDED')
    step = run(node(r.PENDING, audit='a'), watcher=watcher)
    assert (step.kind, step.plan, step.state) == (
        r.START_PLAN, 'plan-a', r.DRAINING)


def test_approval_mode_asks_once_then_waits_then_starts():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='RECOMMENDED')
    step = run(node(r.PENDING, audit='a'), watcher=watcher,
               approval_required=True)
    assert (step.kind, step.state) == (r.ASK_APPROVAL, r.AWAITING_APPROVAL)
    assert 'approve=true' in step.message
    assert run(node(r.AWAITING_APPROVAL, audit='a'), watcher=watcher,
               approval_required=True).kind == r.WAIT
    assert run(node(r.AWAITING_APPROVAL, audit='a', approved=True),
               watcher=watcher, approval_required=True).kind == r.START_PLAN


def test_plan_started_elsewhere_marks_draining_then_waits():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='ONGOING')
    step = run(node(r.AWAITING_APPROVAL, audit='a'), watcher=watcher)
    assert (step.kind, step.state) == (r.MARK, r.DRAINING)
    assert run(node(r.DRAINING, audit='a'), watcher=watcher).kind == r.WAIT


def test_succeeded_plan_and_empty_host_is_drained():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='SUCCEEDED')
    step = run(node(r.DRAINING, audit='a'), service=OURS, watcher=watcher)
    assert (step.kind, step.state, step.warning) == (r.MARK, r.DRAINED,
                                                     False)


def test_succeeded_plan_with_guests_left_fails():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='SUCCEEDED')
    service = r.ServiceView(host=HOST, status='disabled', guests_left=1)
    step = run(node(r.DRAINING, audit='a'), service=service,
               watcher=watcher)
    assert (step.kind, step.state) == (r.MARK, r.FAILED)
    assert 'still holds 1 guest' in step.message


def test_nova_unreadable_waits_instead_of_claiming_drained():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='SUCCEEDED')
    service = r.ServiceView(host=HOST, status='disabled', guests_left=None)
    assert run(node(r.DRAINING, audit='a'), service=service,
               watcher=watcher).kind == r.WAIT


def test_audit_without_plan_on_empty_host_is_drained():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED')
    step = run(node(r.PENDING, audit='a'), service=OURS, watcher=watcher)
    assert step.state == r.DRAINED


@pytest.mark.parametrize('plan_state', ['FAILED', 'CANCELLED'])
def test_failed_plan_fails_the_drain(plan_state):
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state=plan_state)
    step = run(node(r.DRAINING, audit='a'), watcher=watcher)
    assert (step.state, step.warning) == (r.FAILED, True)
    assert plan_state in step.message


def test_superseded_plan_is_asked_again():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='SUPERSEDED')
    step = run(node(r.PENDING, audit='a'), watcher=watcher)
    assert (step.kind, step.state) == (r.QUEUE, r.QUEUED)


@pytest.mark.parametrize('state', [r.DRAINED, r.FAILED])
def test_settled_drain_does_nothing_while_cordoned(state):
    assert run(node(state, audit='a')).kind == r.NOTHING


# -- uncordon -------------------------------------------------------------

@pytest.mark.parametrize('state', [None, r.RESTORED, r.RESTORE_FAILED])
def test_uncordoned_settled_node_does_nothing(state):
    assert run(node(state, cordoned=False)).kind == r.NOTHING


@pytest.mark.parametrize('plan_state', ['PENDING', 'ONGOING'])
def test_uncordon_mid_drain_cancels_the_plan(plan_state):
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state=plan_state)
    step = run(node(r.DRAINING, cordoned=False, audit='a'),
               watcher=watcher)
    assert (step.kind, step.plan) == (r.CANCEL_PLAN, 'plan-a')


def test_uncordon_waits_for_a_cancelling_plan():
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='CANCELLING')
    assert run(node(r.DRAINING, cordoned=False, audit='a'),
               watcher=watcher).kind == r.WAIT


@pytest.mark.parametrize('state', [r.DRAINED, r.FAILED, r.DRAINING])
def test_uncordon_of_our_disable_begins_a_restore(state):
    watcher = FakeWatcher()
    watcher.audit('a', 'SUCCEEDED', plan_state='SUCCEEDED')
    step = run(node(state, cordoned=False, audit='a'), service=OURS,
               watcher=watcher)
    assert (step.kind, step.state) == (r.BEGIN, r.RESTORING)


def test_someone_elses_disable_is_left_alone_with_a_warning():
    step = run(node(r.DRAINED, cordoned=False), service=THEIRS)
    assert (step.kind, step.state, step.warning) == (r.MARK, r.RESTORED,
                                                     True)
    assert 'hardware ticket 42' in step.message
    assert 'stays disabled' in step.message


@pytest.mark.parametrize('state', [r.PENDING, r.QUEUED,
                                   r.AWAITING_APPROVAL])
def test_uncordon_before_anything_started_is_restored(state):
    step = run(node(state, cordoned=False), service=ENABLED)
    assert (step.kind, step.state) == (r.MARK, r.RESTORED)


def test_restoring_asks_for_a_restore_audit():
    step = run(node(r.RESTORING, cordoned=False), service=OURS,
               return_guests='drained')
    assert (step.kind, step.strategy) == (r.CREATE_AUDIT, r.RESTORE)
    assert step.parameters == {'maintenance_node': HOST,
                               'return_guests': 'drained'}
    assert step.audit_name == 'k8s-restore-compute-1-r7-0'


def test_restore_queues_while_busy_and_stays_restoring():
    step = run(node(r.RESTORING, cordoned=False), service=OURS,
               busy='audit x (ONGOING)')
    assert (step.kind, step.state) == (r.QUEUE, r.RESTORING)


def test_restore_plan_runs_to_restored():
    watcher = FakeWatcher()
    watcher.audit('b', 'SUCCEEDED', plan_state='RECOMMENDED')
    view = node(r.RESTORING, cordoned=False, audit='b')
    assert run(view, OURS, watcher).kind == r.START_PLAN
    watcher.audit('b', 'SUCCEEDED', plan_state='ONGOING')
    assert run(view, OURS, watcher).kind == r.WAIT
    watcher.audit('b', 'SUCCEEDED', plan_state='SUCCEEDED')
    assert run(view, OURS, watcher).state == r.RESTORED


def test_restore_refused_or_failed_is_restore_failed():
    watcher = FakeWatcher()
    watcher.audit('b', 'FAILED', 'compute-1 is down')
    view = node(r.RESTORING, cordoned=False, audit='b')
    step = run(view, OURS, watcher)
    assert (step.state, step.warning) == (r.RESTORE_FAILED, True)
    assert 'compute-1 is down' in step.message
    watcher.audit('b', 'SUCCEEDED', plan_state='FAILED')
    assert run(view, OURS, watcher).state == r.RESTORE_FAILED


def test_restore_audit_cancelled_or_superseded_is_asked_again():
    watcher = FakeWatcher()
    view = node(r.RESTORING, cordoned=False, audit='b')
    watcher.audit('b', 'CANCELLED')
    assert run(view, OURS, watcher).kind == r.QUEUE
    watcher.audit('b', 'SUCCEEDED', plan_state='SUPERSEDED')
    assert run(view, OURS, watcher).kind == r.QUEUE


# -- the hold and the host mapping ----------------------------------------

def test_drain_is_held_except_when_drained_cordoned_or_released():
    assert r.drain_held(node(r.PENDING), True, False)
    assert r.drain_held(node(r.FAILED), True, False)
    assert not r.drain_held(node(r.DRAINED), True, False)
    assert r.drain_held(node(r.DRAINED, cordoned=False), True, False)
    assert not r.drain_held(node(r.FAILED), True, True)
    assert not r.drain_held(node(r.PENDING), False, False)


def test_host_mapping_order_annotation_name_short_name():
    hosts = ['compute-1', 'compute-2.example.org']
    assert r.nova_host_for('x', 'compute-1', hosts) == ('compute-1', None)
    assert r.nova_host_for('compute-2.example.org', None, hosts)[0] == \
        'compute-2.example.org'
    assert r.nova_host_for('compute-1.example.org', None, hosts)[0] == \
        'compute-1'


def test_host_mapping_refuses_none_or_several():
    host, reason = r.nova_host_for('gpu-9', None, ['compute-1'])
    assert host is None and 'matches no nova-compute service' in reason
    host, reason = r.nova_host_for('c', None, ['c', 'c'])
    assert host is None and '2 nova-compute services' in reason


def test_audit_names_of_long_hosts_stay_unique_and_fit():
    long_a = 'compute-1.' + 'rack-7.' * 10 + 'example.org'
    long_b = 'compute-2.' + 'rack-7.' * 10 + 'example.org'
    name_a = r.audit_name(r.DRAIN, long_a, 'r123456', 3)
    name_b = r.audit_name(r.DRAIN, long_b, 'r123456', 3)
    assert len(name_a) <= r.AUDIT_NAME_LIMIT
    assert name_a != name_b and name_a.endswith('-r123456-3')

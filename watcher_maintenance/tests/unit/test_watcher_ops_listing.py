"""WatcherOps' listings: the newest maintenance audit of each host and
the newest plan of each audit, as the CLI's ``show`` and the Horizon
panel read them."""

from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.tests.dashboard import fakes


def test_newest_audit_per_host_counts_several_node_audits_for_each():
    client = fakes.FakeWatcher()
    old = client.add_audit('host_drain', {'maintenance_node': 'compute-1'},
                           'SUCCEEDED')
    both = client.add_audit(
        'host_drain', {'maintenance_nodes': '["compute-1", "compute-2"]'},
        'SUCCEEDED')
    back = client.add_audit('host_restore', {'maintenance_node': 'compute-2',
                                             'return_guests': 'drained'},
                            'ONGOING')
    client.add_audit('host_drain', {'maintenance_nodes': 'not json'},
                     'FAILED')
    ops = watcher_ops.WatcherOps(client)
    newest = ops.latest_audits()
    assert {'compute-1': both['uuid'], 'compute-2': back['uuid']} == {
        host: audit['uuid'] for host, audit in newest.items()}
    assert ops.latest_audit('compute-1')['uuid'] == both['uuid'] != old[
        'uuid']
    assert ops.latest_audit('compute-9') is None


def test_newest_plan_per_audit():
    client = fakes.FakeWatcher()
    audit = client.add_audit('host_drain', {'maintenance_node': 'compute-1'},
                             'SUCCEEDED')
    first = client.add_plan(audit, 'SUPERSEDED')
    second = client.add_plan(audit, 'RECOMMENDED')
    second['created_at'] = first['created_at'] + '1'
    plans = watcher_ops.WatcherOps(client).plans_by_audit()
    assert {audit['uuid']: second['uuid']} == {
        key: plan['uuid'] for key, plan in plans.items()}

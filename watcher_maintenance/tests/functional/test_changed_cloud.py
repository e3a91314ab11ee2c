"""Plans that meet a cloud that changed after the audit planned them.

Operators approve a plan an hour or a day after the audit. Each test
plans a drain through the real Watcher services, changes the sandbox's
Nova behind the plan's back as a tenant or another operator would, and
then runs the plan: it must stop before a move that no longer fits, and
must never call a node empty that still holds a guest.
"""

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.builders import MAINTAINING
from watcher_maintenance.tests.builders import SMALL_HOST
from watcher_maintenance.tests.builders import Cloud
from watcher_maintenance.tests.builders import ReadsPlans


def cloud():
    """Hosts of 8 vCPU and guests of 4 vCPU: two fill a host."""
    return Cloud(host=SMALL_HOST, guest=dict(vcpus=4))


class TestChangedCloud(testing.SandboxTestCase):

    def planned_drain(self):
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1'})['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        return self.plan_of(audit['uuid'])

    def migrations_of(self, name):
        uuid = self.server(name)['id']
        with self.nova.lock:
            return [m for m in self.nova.migrations.values()
                    if m['server_uuid'] == uuid]

    def test_a_destination_filled_after_planning_stops_the_plan_first(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'vm-a')
            .guests_on('compute-3', 'filler', vcpus=6).topology())
        plan = self.planned_drain()
        [move] = [a for a in self.actions_of(plan['uuid'])
                  if a['action_type'] == 'migrate']
        self.assertEqual('compute-2', move['input_parameters'][
            'destination_node'])

        # A tenant's server lands on compute-2 before the plan runs.
        self.move_server('filler', 'compute-2')
        done = self.run_plan(plan['uuid'])

        self.assertEqual('FAILED', done['state'])
        self.assertEqual('compute-1', self.host_of('vm-a'))
        self.assertEqual([], self.migrations_of('vm-a'))
        self.assert_no_overcommit()
        actions = self.actions_of(plan['uuid'])
        [check] = [a for a in actions if a['state'] == 'FAILED']
        self.assertEqual('maintenance_checkpoint', check['action_type'])
        for phrase in ('vm-a to compute-2', 'compute-2 has too little free '
                       'vCPU', 'Run the audit again'):
            self.assertIn(phrase, check['status_message'])
        self.assertEqual('SKIPPED', [a for a in actions
                                     if a['action_type'] == 'migrate'][0][
            'state'])

        # As the sentence says: a new audit plans for the cloud as it is.
        plan = self.planned_drain()
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual('compute-3', self.host_of('vm-a'))
        self.assert_no_overcommit()

    def test_a_disabled_destination_stops_the_plan_first(self):
        # Watcher's migrate pre-condition checks this one too, but only
        # once the migration is next; the checkpoint says it for the
        # whole wave, and why.
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'vm-a').topology())
        plan = self.planned_drain()
        self.set_service('compute-2', 'disabled', 'firmware')
        done = self.run_plan(plan['uuid'])
        self.assertEqual('FAILED', done['state'])
        self.assertEqual('compute-1', self.host_of('vm-a'))
        self.assertEqual([], self.migrations_of('vm-a'))
        # The checkpoint stops the plan with the sentence. (Watcher's own
        # pre-condition of the migration, which the applier still runs
        # on a skipped action, then marks it failed with its own words;
        # the migration itself never starts.)
        check = [a for a in self.actions_of(plan['uuid'])
                 if a['state'] == 'FAILED'][0]
        self.assertEqual('maintenance_checkpoint', check['action_type'])
        self.assertIn('compute-2 is disabled (firmware) now',
                      check['status_message'])

    def test_a_guest_moved_onto_the_node_after_the_audit_fails_the_plan(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'vm-a')
            .guests_on('compute-3', 'late').topology())
        plan = self.planned_drain()
        # Another operator moves a server onto the node after the audit.
        self.move_server('late', 'compute-1')
        done = self.run_plan(plan['uuid'])

        self.assertEqual('FAILED', done['state'])
        self.assertEqual('compute-2', self.host_of('vm-a'))
        actions = self.actions_of(plan['uuid'])
        last = actions[-1]
        self.assertEqual('maintenance_checkpoint', last['action_type'])
        self.assertEqual('FAILED', last['state'])
        for phrase in ('compute-1 is not empty', 'late',
                       'Run the audit again'):
            self.assertIn(phrase, last['status_message'])

    def test_a_guest_the_model_does_not_know_yet_is_planned_too(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2', 'compute-3')
            .guests_on('compute-1', 'vm-a')
            .guests_on('compute-3', 'late').topology())
        # An audit builds Watcher's cached model; then a server moves
        # onto the node, and no notification tells Watcher.
        self.planned_drain()
        self.move_server('late', 'compute-1')
        resp = self.admin_api.post('/audits', {
            'audit_type': 'ONESHOT', 'goal': 'cluster_maintenance',
            'strategy': 'host_drain',
            'parameters': {'maintenance_node': 'compute-1'}})
        self.assertEqual(201, resp.status_code, resp.text)
        audit = self.wait_audit(resp.json()['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        self.assertIn('not yet in Watcher\'s model: late',
                      audit['status_message'])
        plan = self.plan_of(audit['uuid'])
        moved = {a['input_parameters']['resource_name']
                 for a in self.actions_of(plan['uuid'])
                 if a['action_type'] == 'migrate'}
        self.assertEqual({'vm-a', 'late'}, moved)
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual([], self.servers_on('compute-1'))
        self.assert_no_overcommit()


class TestDrainsSeeEachOther(ReadsPlans, testing.SandboxTestCase):

    def drain(self, node):
        audit = self.wait_audit(self.create_audit(
            {'maintenance_node': node})['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        return audit, self.plan_of(audit['uuid'])

    def destinations(self, plan):
        moves = self.moves(self.actions_of(plan['uuid']))
        return {name: destination
                for name, (_, destination) in moves.items()}

    def test_two_drains_planned_back_to_back_both_fit(self):
        # One free slot for a 4-vCPU guest on compute-3, one on
        # compute-4; compute-1 would look like one too once vm-a left.
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2')
            .hosts('compute-3', vcpus=6).hosts('compute-4')
            .guests_on('compute-1', 'vm-a').guests_on('compute-2', 'vm-b')
            .guests_on('compute-4', 'filler').topology())
        first_audit, first = self.drain('compute-1')
        second_audit, second = self.drain('compute-2')

        [(_, taken)] = self.destinations(first).items()
        [(_, other)] = self.destinations(second).items()
        self.assertNotEqual(taken, other)
        self.assertNotEqual('compute-1', other)
        message = second_audit['status_message']
        self.assertIn('1 guest(s) of plan %s counted on %s' % (
            first['uuid'], taken), message)
        self.assertIn('compute-1 is being drained by plan %s' %
                      first['uuid'], message)

        self.assertEqual('SUCCEEDED', self.run_plan(first['uuid'])['state'])
        self.assertEqual('SUCCEEDED', self.run_plan(second['uuid'])['state'])
        self.assertEqual([], self.servers_on('compute-1'))
        self.assertEqual([], self.servers_on('compute-2'))
        self.assert_no_overcommit()

    def test_a_newer_audit_supersedes_the_older_plan_of_its_node(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'vm-a').topology())
        _, older = self.drain('compute-1')
        audit, newer = self.drain('compute-1')
        self.assertEqual('SUPERSEDED',
                         self.plan_of(older['audit_uuid'])['state'])
        self.assertEqual('RECOMMENDED', newer['state'])
        self.assertIn('Supersedes the older plan(s) of compute-1: %s'
                      % older['uuid'], audit['status_message'])
        # Only the newer plan's move is counted: it alone fits compute-2.
        self.assertEqual({'vm-a': 'compute-2'}, self.destinations(newer))

    def test_a_refused_newer_audit_leaves_the_older_plan_as_it_was(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'vm-a').topology())
        _, older = self.drain('compute-1')
        refused = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1',
             'backup_node': 'compute-9'})['uuid'])
        self.assertEqual('FAILED', refused['state'])
        self.assertEqual('RECOMMENDED',
                         self.plan_of(older['audit_uuid'])['state'])


class TestServiceStateFromNova(testing.SandboxTestCase):
    """The nodes' service state is Nova's, not a lagging model's."""

    def audit_on_the_cached_model(self, strategy, **parameters):
        # No model rebuild: Watcher has not heard of the latest change.
        resp = self.admin_api.post('/audits', {
            'audit_type': 'ONESHOT', 'goal': 'cluster_maintenance',
            'strategy': strategy, 'parameters': parameters})
        self.assertEqual(201, resp.status_code, resp.text)
        audit = self.wait_audit(resp.json()['uuid'])
        self.assertEqual('SUCCEEDED', audit['state'],
                         audit.get('status_message'))
        return self.plan_of(audit['uuid'])

    def test_a_restore_enables_a_node_the_model_still_shows_enabled(self):
        self.load_topology(
            cloud().hosts('compute-1', 'compute-2')
            .guests_on('compute-1', 'vm-a').topology())
        drain = self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-1'})['uuid'])
        self.assertEqual('SUCCEEDED', self.run_plan(
            self.plan_of(drain['uuid'])['uuid'])['state'])
        # The model was built before the drain disabled compute-1.
        plan = self.audit_on_the_cached_model(
            'host_restore', maintenance_node='compute-1')
        enables = [a for a in self.actions_of(plan['uuid'])
                   if a['action_type'] == 'change_nova_service_state']
        self.assertEqual(['enabled'], [a['input_parameters']['state']
                                       for a in enables])
        self.assertEqual('SUCCEEDED', self.run_plan(plan['uuid'])['state'])
        self.assertEqual('enabled', self.service('compute-1')['status'])

    def test_a_drain_disables_a_node_re_enabled_by_hand(self):
        self.load_topology(
            cloud().hosts('compute-1', **MAINTAINING).hosts('compute-2')
            .guests_on('compute-1', 'vm-a').topology())
        # An audit that plans nothing builds Watcher's model.
        self.wait_audit(self.create_audit(
            {'maintenance_node': 'compute-2'}, strategy='host_restore')[
            'uuid'])
        self.set_service('compute-1', 'enabled')
        plan = self.audit_on_the_cached_model(
            'host_drain', maintenance_node='compute-1')
        disables = [a['input_parameters'] for a in self.actions_of(
            plan['uuid']) if a['action_type'] == 'change_nova_service_state']
        self.assertEqual([('compute-1', 'disabled')],
                         [(p['resource_name'], p['state'])
                          for p in disables])

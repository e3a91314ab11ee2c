"""The tenants' ``maintenance_policy`` and the operator's switches."""

import dataclasses
import itertools
import unittest

from hypothesis import given
from hypothesis import strategies as st

from watcher_maintenance.planning import decide
from watcher_maintenance.planning import policy
from watcher_maintenance.planning import targets
from watcher_maintenance.planning.inventory import Guest
from watcher_maintenance.planning.inventory import Resources
from watcher_maintenance.planning.plan import Outcome
from watcher_maintenance.planning.plan import PlanningRefused


@dataclasses.dataclass(frozen=True)
class Rules:
    disable_live_migration: bool = False
    disable_cold_migration: bool = False
    live_migrate_local_disk: bool = True
    skip_unmovable: bool = False


def guest(policy_name='live', state='active', local_disk=False, name='vm-1'):
    return Guest('u-' + name, name, state, Resources(2, 2048, 20),
                 local_disk=local_disk, policy=policy_name)


L, C, S, LEFT = Outcome.LIVE, Outcome.COLD, Outcome.STOP, Outcome.LEFT

# An ACTIVE guest (shared storage): policy x (disable_live_migration,
# disable_cold_migration) -> outcome. The switches only ever make it
# stricter: live -> cold -> stop.
ACTIVE = {
    'live': {(False, False): L, (True, False): C, (False, True): L,
             (True, True): S},
    'cold': {(False, False): C, (True, False): C, (False, True): S,
             (True, True): S},
    'stop': {(False, False): S, (True, False): S, (False, True): S,
             (True, True): S},
    'skip': {(False, False): LEFT, (True, False): LEFT, (False, True): LEFT,
             (True, True): LEFT},
}
# A SHUTOFF guest: stop and skip leave it; cold migration otherwise,
# unless it is disabled.
STOPPED = {
    'live': {(False, False): C, (True, False): C, (False, True): LEFT,
             (True, True): LEFT},
    'cold': {(False, False): C, (True, False): C, (False, True): LEFT,
             (True, True): LEFT},
    'stop': dict.fromkeys(itertools.product((False, True), repeat=2), LEFT),
    'skip': dict.fromkeys(itertools.product((False, True), repeat=2), LEFT),
}


class TestPolicyOfMetadata(unittest.TestCase):

    def test_absent_or_empty_is_live(self):
        self.assertEqual('live', policy.of(None))
        self.assertEqual('live', policy.of({}))
        self.assertEqual('live', policy.of({'maintenance_policy': ' '}))

    def test_value_is_trimmed_and_lowercased(self):
        self.assertEqual('cold', policy.of({'maintenance_policy': ' Cold'}))
        self.assertEqual('fast', policy.of({'maintenance_policy': 'fast'}))


class TestEveryCombination(unittest.TestCase):

    def test_active_guests(self):
        for name, table in ACTIVE.items():
            for (no_live, no_cold), expected in table.items():
                rules = Rules(no_live, no_cold)
                decision = decide.decide(guest(name), rules)
                self.assertEqual(expected, decision.outcome,
                                 (name, rules, decision.reason))
                self.assertIn('maintenance_policy=%s' % name,
                              decision.reason)

    def test_stopped_guests(self):
        for name, table in STOPPED.items():
            for (no_live, no_cold), expected in table.items():
                rules = Rules(no_live, no_cold)
                decision = decide.decide(guest(name, 'stopped'), rules)
                self.assertEqual(expected, decision.outcome,
                                 (name, rules, decision.reason))
                self.assertIn('maintenance_policy=%s' % name,
                              decision.reason)

    def test_skip_leaves_even_a_guest_watcher_cannot_move(self):
        decision = decide.decide(guest('skip', 'paused'), Rules())
        self.assertEqual(LEFT, decision.outcome)
        decisions, to_move = decide.for_drain('compute-1', [
            guest('skip', 'paused')], Rules())
        self.assertEqual(([LEFT], []), ([d.outcome for d in decisions],
                                        to_move))

    def test_cold_wins_over_a_local_disk_rule(self):
        decision = decide.decide(guest('cold', local_disk=True),
                                 Rules(live_migrate_local_disk=False))
        self.assertEqual(C, decision.outcome)


class TestUnknownPolicy(unittest.TestCase):

    def test_refused_naming_the_server_and_the_allowed_values(self):
        guests = [guest('fast', name='web-1'), guest(name='web-2'),
                  guest('Never', name='db-1')]
        with self.assertRaises(PlanningRefused) as caught:
            decide.for_drain('compute-1', guests, Rules())
        text = caught.exception.message
        self.assertIn('server web-1 has maintenance_policy=fast', text)
        self.assertIn('server db-1 has maintenance_policy=Never', text)
        self.assertNotIn('web-2', text)
        self.assertIn('live (the default), cold, stop or skip', text)
        self.assertIn('openstack server set --property '
                      'maintenance_policy=live web-1', text)

    def test_a_single_decision_refuses_too(self):
        with self.assertRaises(PlanningRefused):
            decide.decide(guest('fast'), Rules())


class TestCounts(unittest.TestCase):

    def test_one_count_per_policy(self):
        guests = [guest('live'), guest('live'), guest('stop'), guest('skip')]
        self.assertEqual({'policy_live_count': 2, 'policy_cold_count': 0,
                          'policy_stop_count': 1, 'policy_skip_count': 1},
                         policy.counts(guests))


STRICTNESS = {L: 0, C: 1, S: 2, LEFT: 3}


@st.composite
def cases(draw):
    return (draw(st.sampled_from(policy.POLICIES)),
            draw(st.sampled_from(['active', 'stopped', 'paused',
                                  'suspended', 'error'])),
            draw(st.booleans()),
            Rules(draw(st.booleans()), draw(st.booleans()),
                  draw(st.booleans()), draw(st.booleans())))


class TestPolicyProperties(unittest.TestCase):

    @given(cases())
    def test_the_tenant_and_the_operator_are_both_obeyed(self, case):
        name, state, local_disk, rules = case
        outcome = decide.decide(guest(name, state, local_disk),
                                rules).outcome
        # The tenant: only live may be live-migrated; stop and skip
        # never move; skip is never stopped.
        if name != policy.LIVE:
            self.assertNotEqual(L, outcome)
        if name in (policy.STOP, policy.SKIP):
            self.assertFalse(outcome.moves)
        if name == policy.SKIP:
            self.assertEqual(LEFT, outcome)
        # The operator: a disabled kind of migration never happens.
        if rules.disable_live_migration:
            self.assertNotEqual(L, outcome)
        if rules.disable_cold_migration:
            self.assertNotEqual(C, outcome)
        # Only a running guest is ever stopped.
        if outcome is S:
            self.assertEqual('active', state)

    @given(cases())
    def test_switches_only_make_a_decision_stricter(self, case):
        name, state, local_disk, rules = case
        free = decide.decide(guest(name, state, local_disk), Rules(
            live_migrate_local_disk=rules.live_migrate_local_disk))
        strict = decide.decide(guest(name, state, local_disk), rules)
        if Outcome.UNPLACEABLE in (free.outcome, strict.outcome):
            return
        self.assertGreaterEqual(STRICTNESS[strict.outcome],
                                STRICTNESS[free.outcome])


class TestStoppedByTheDrain(unittest.TestCase):
    """host_restore starts what the drain stopped, and only that."""

    def test_still_stopped_on_the_node_are_started(self):
        on_node = [guest('stop', 'stopped', name='stop-1'),
                   guest('stop', 'active', name='started-by-owner'),
                   guest('stop', 'stopped', name='moved-since'),
                   guest('live', 'stopped', name='was-off-anyway')]
        hosts = {'moved-since': 'compute-2'}
        source = targets.GuestList(
            targets.Placed(g, hosts.get(g.name, 'compute-1'))
            for g in on_node)
        record = targets.DrainRecord('plan-1', 'SUCCEEDED', (), tuple(
            targets.DrainedGuest(g.uuid, None, 'compute-1')
            for g in on_node[:3]) + (
            targets.DrainedGuest('u-deleted', None, 'compute-1'),))
        returned = targets.from_drain('compute-1', record, source)
        self.assertEqual(['stop-1'], [g.name for g in returned.to_start])

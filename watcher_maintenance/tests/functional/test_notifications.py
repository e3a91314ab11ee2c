"""``maintenance.start`` / ``maintenance.end`` from real Watcher services.

Watcher's notifier is given oslo.messaging's ``messagingv2`` driver on the
sandbox's ``fake:`` transport (what ``[oslo_messaging_notifications]
driver = messagingv2`` does in a deployment), and a notification listener
on the ``notifications`` topic hears what the applier sends while a
drain's plan runs.
"""

import threading
import time

import fixtures
import oslo_messaging as messaging
from watcher.common import context
from watcher.common import rpc

from watcher_maintenance.sandbox import testing
from watcher_maintenance.tests.functional.test_host_drain import \
    HostDrainTestCase
from watcher_maintenance.tests.functional.test_cli_enter import THREE_HOSTS

EVENTS = ('maintenance.start', 'maintenance.end')
SENTINEL = 'test.sentinel'
# Upper bound for a notification to arrive; only turns a hang into a
# failure.
HEAR_TIMEOUT = 60

# web-1 and web-2 (project shop) and batch-1 (science, stopped) on
# compute-1; db-1 on compute-2.
TWO_PROJECTS = THREE_HOSTS


class Ear:
    """A notification endpoint keeping what it hears of maintenance."""

    def __init__(self):
        self.heard = []
        self.changed = threading.Condition()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        if event_type in EVENTS + (SENTINEL,):
            with self.changed:
                self.heard.append((publisher_id, event_type, payload))
                self.changed.notify_all()

    def wait_for(self, count):
        deadline = time.monotonic() + HEAR_TIMEOUT
        with self.changed:
            while len(self.heard) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError('heard %d of %d notifications: %s'
                                         % (len(self.heard), count,
                                            self.heard))
                self.changed.wait(left)
            return list(self.heard)


class TestTenantNotifications(HostDrainTestCase):

    def setUp(self):
        super().setUp()
        notifier = messaging.Notifier(
            rpc.NOTIFICATION_TRANSPORT, driver='messagingv2',
            topics=['notifications'],
            serializer=rpc.RequestContextSerializer(
                messaging.JsonPayloadSerializer()))
        self.useFixture(fixtures.MockPatchObject(rpc, 'NOTIFIER', notifier))
        self.ear = Ear()
        listener = messaging.get_notification_listener(
            rpc.NOTIFICATION_TRANSPORT,
            [messaging.Target(topic='notifications')], [self.ear],
            executor='threading')
        listener.start()
        self.addCleanup(listener.wait)
        self.addCleanup(listener.stop)

    def sentinel(self):
        rpc.get_notifier('test').info(context.make_context(is_admin=True),
                                      SENTINEL, {})

    def guest(self, name, action, destination):
        server = self.server(name)
        return {'server_uuid': server['id'], 'server_name': name,
                'host': 'compute-1', 'action': action,
                'destination': destination}

    def test_start_and_end_list_each_projects_servers(self):
        self.load_topology(TWO_PROJECTS)
        plan, actions = self.plan_and_actions(self.drain())
        moves = self.migrations(actions)
        self.execute(plan)
        heard = self.ear.wait_for(2)

        self.sentinel()
        heard = self.ear.wait_for(3)
        self.assertEqual(list(EVENTS) + [SENTINEL],
                         [event for _, event, _ in heard])
        publisher, _, start = heard[0]
        self.assertTrue(publisher.startswith('watcher-applier:'), publisher)
        self.assertEqual(plan['uuid'], start['action_plan_uuid'])
        self.assertEqual(['compute-1'], start['hosts'])
        # db-1 is on another node: it is not listed.
        self.assertEqual({
            'science': [self.guest('batch-1', 'cold', moves['batch-1'][1])],
            'shop': [self.guest('web-%d' % n, 'live', moves['web-%d' % n][1])
                     for n in (1, 2)],
        }, start['projects'])

        end = heard[1][2]
        self.assertEqual(('succeeded', None), (end['result'], end['reason']))
        self.assertEqual(start['projects'], end['projects'])
        self.assertEqual(plan['uuid'], end['action_plan_uuid'])

    def test_a_stopped_plan_ends_with_the_reason(self):
        self.load_topology(TWO_PROJECTS)
        plan, _ = self.plan_and_actions(self.drain())
        self.inject_failure('web-1', testing.ERROR_AFTER_START)
        self.inject_failure('web-2', testing.ERROR_AFTER_START)
        self.inject_failure('batch-1', testing.ERROR_AFTER_START)
        done = self.run_plan(plan['uuid'])
        self.assertEqual('FAILED', done['state'])
        start, end = [payload for _, _, payload in self.ear.wait_for(2)]
        self.assertEqual('maintenance.start', start['event'])
        self.assertEqual('stopped', end['result'])
        self.assertRegex(end['reason'],
                         r'^migrate of (web-1|web-2|batch-1) failed$')

    def test_nothing_is_sent_without_a_notification_level(self):
        self.flags(notification_level='')
        self.load_topology(TWO_PROJECTS)
        plan, _ = self.plan_and_actions(self.drain())
        self.execute(plan)
        self.assertEqual([], self.servers_on('compute-1'))
        # Messages on a topic arrive in order: once a sentinel sent after
        # the plan is heard, so is everything the plan sent.
        self.sentinel()
        self.assertEqual([SENTINEL], [e for _, e, _ in self.ear.wait_for(1)])

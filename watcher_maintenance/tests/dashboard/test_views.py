"""The panel's pages through Django's test client.

Watcher is ``fakes.FakeWatcher`` behind the real ``WatcherOps`` (the
client factory is patched), Nova's listings are patched at
``openstack_dashboard.api.nova``; Horizon fails a test that reaches the
network. The browser tests run the same pages against real Watcher.
"""

from unittest import mock

from django.urls import reverse
import horizon
from openstack_dashboard.test import helpers

from watcher_maintenance.tests.dashboard import fakes

INDEX = reverse('horizon:admin:host_maintenance:index')
ENTER = reverse('horizon:admin:host_maintenance:enter')
EXIT = reverse('horizon:admin:host_maintenance:exit')
WATCHER_URL = 'http://watcher.example.com:9322'


def audit_url(audit):
    return reverse('horizon:admin:host_maintenance:audit',
                   args=[audit['uuid']])


def plan_url(plan):
    return reverse('horizon:admin:host_maintenance:plan', args=[plan['uuid']])


WATCHER_ENTRY = {
    'type': 'infra-optim', 'name': 'watcher', 'endpoints_links': [],
    'endpoints': [{'region': 'RegionOne', 'interface': interface,
                   'url': WATCHER_URL}
                  for interface in ('admin', 'internal', 'public')]}


class PanelTestCase(helpers.BaseAdminViewTests):
    """An admin whose catalog has Watcher, a cloud of three compute hosts
    (compute-2 in maintenance) and a conductor."""

    with_watcher = True

    def _setup_user(self, **kwargs):
        catalog = list(self.service_catalog)
        if self.with_watcher:
            catalog.append(WATCHER_ENTRY)
        super()._setup_user(service_catalog=catalog, **kwargs)

    def setUp(self):
        super().setUp()
        self.watcher = fakes.FakeWatcher()
        self.get_client = self._patch(
            'watcher_maintenance.dashboard.api.watcher_client.get_client',
            side_effect=lambda *a, **k: self.watcher)
        self.services = [
            fakes.service('compute-1'),
            fakes.in_maintenance('compute-2'),
            fakes.service('compute-3', zone='az-2', status='disabled',
                          reason='broken disk'),
            fakes.service('controller-1', binary='nova-conductor'),
        ]
        self.servers = [fakes.server('web-1', 'compute-1'),
                        fakes.server('web-2', 'compute-1',
                                     project='project-b'),
                        fakes.server('db-1', 'compute-3',
                                     status='SHUTOFF')]
        self._patch('openstack_dashboard.api.nova.service_list',
                    side_effect=lambda request, binary=None: self.services)
        self._patch('openstack_dashboard.api.nova.server_list',
                    side_effect=lambda request, search_opts=None: (
                        self.servers, False))

    def _patch(self, target, **kwargs):
        patcher = mock.patch(target, **kwargs)
        self.addCleanup(patcher.stop)
        return patcher.start()

    def drained(self, plan_state='RECOMMENDED', action_state='PENDING',
                status_message=None):
        """A host_drain audit of compute-1 with its plan."""
        audit = self.watcher.add_audit(
            'host_drain', {'maintenance_node': 'compute-1'}, 'SUCCEEDED',
            'Every guest of compute-1 has a place.')
        plan = self.watcher.add_plan(audit, plan_state, indicators=[
            {'name': 'live_migrations', 'value': 1.0, 'unit': '',
             'description': 'Guests live-migrated'},
            {'name': 'cold_migrations', 'value': 1.0, 'unit': '',
             'description': 'Guests cold-migrated'}])
        self.watcher.add_action(
            plan, 'change_nova_service_state', action_state,
            resource_name='compute-1', state='disabled',
            disabled_reason='watcher_maintaining')
        self.watcher.add_migration(plan, self.servers[0], 'compute-1',
                                   'compute-3', 'live', action_state)
        self.watcher.add_migration(plan, self.servers[1], 'compute-1',
                                   'compute-3', 'cold', action_state,
                                   status_message)
        return audit, plan


class HostListTests(PanelTestCase):

    def test_panel_is_in_the_optimization_group(self):
        dashboard = horizon.get_dashboard('admin')
        panel = dashboard.get_panel('host_maintenance')
        user = self.factory.get(INDEX).user
        self.assertTrue(user.has_perms(panel.permissions))
        self.assertIn(panel, dashboard.get_panel_group('watcher'))

    def test_lists_compute_hosts_with_their_maintenance_state(self):
        audit, plan = self.drained('ONGOING', 'ONGOING')
        res = self.client.get(INDEX)
        self.assertTemplateUsed(res, 'host_maintenance/index.html')
        rows = {row.host: row for row in res.context['table'].data}
        self.assertEqual(['compute-1', 'compute-2', 'compute-3'],
                         sorted(rows))    # not the conductor
        self.assertContains(res, 'In maintenance')           # compute-2
        self.assertContains(res, 'Disabled (broken disk)')   # compute-3
        self.assertEqual((2, 0, 1), (rows['compute-1'].guests,
                                     rows['compute-2'].guests,
                                     rows['compute-3'].guests))
        self.assertEqual('az-2', rows['compute-3'].zone)
        self.assertContains(res, 'host_drain SUCCEEDED')
        self.assertContains(res, 'href="%s"' % audit_url(audit))
        self.assertContains(res, 'href="%s"' % plan_url(plan))
        # Enter on hosts not in maintenance; Exit on disabled ones and
        # on those with a maintenance audit.
        self.assertContains(res, '%s?host=compute-1' % ENTER)
        self.assertNotContains(res, '%s?host=compute-2' % ENTER)
        self.assertContains(res, '%s?host=compute-3' % ENTER)
        self.assertContains(res, '%s?host=compute-1' % EXIT)
        self.assertContains(res, '%s?host=compute-2' % EXIT)
        self.assertContains(res, '%s?host=compute-3' % EXIT)
        self.assertEqual(WATCHER_URL,
                         self.get_client.call_args.kwargs['watcher_url'])
        self.assertEqual('1.5', self.get_client.call_args.kwargs[
            'os_infra_optim_api_version'])

    def test_batch_enter_opens_the_modal_for_the_selected_hosts(self):
        res = self.client.post(INDEX, {
            'action': 'compute_hosts__enter_selected',
            'object_ids': ['compute-1', 'compute-3']})
        self.assertRedirectsNoFollow(
            res, ENTER + '?host=compute-1&host=compute-3')

    def test_watcher_down_still_lists_hosts(self):
        self.get_client.side_effect = RuntimeError('connection refused')
        res = self.client.get(INDEX)
        self.assertEqual(3, len(res.context['table'].data))
        self.assertContains(res, 'Unable to read the maintenance audits')


class WithoutWatcherTests(PanelTestCase):
    with_watcher = False

    def test_panel_is_absent_without_watcher_in_the_catalog(self):
        panel = horizon.get_dashboard('admin').get_panel('host_maintenance')
        user = self.factory.get(INDEX).user
        self.assertFalse(user.has_perms(panel.permissions))
        self.assertNotEqual(200, self.client.get(INDEX).status_code)
        self.get_client.assert_not_called()


class EnterTests(PanelTestCase):

    def test_modal_offers_the_other_hosts_as_backup(self):
        res = self.client.get(ENTER + '?host=compute-1')
        self.assertTemplateUsed(res, 'host_maintenance/enter.html')
        form = res.context['form']
        self.assertEqual('compute-1', form.initial['hosts'])
        self.assertEqual(['', 'compute-2', 'compute-3'],
                         [value for value, _ in
                          form.fields['backup_node'].choices])
        for field in ('placement', 'allow_live_migration', 'skip_unmovable',
                      'max_parallel_migrations'):
            self.assertIn(field, form.fields)

    def test_submit_creates_the_host_drain_audit(self):
        res = self.client.post(ENTER, {
            'hosts': 'compute-1', 'backup_node': 'compute-3',
            'placement': 'pack', 'skip_unmovable': 'on',
            'max_parallel_migrations': '2'})
        [created] = self.watcher.audit.created
        self.assertEqual({
            'audit_type': 'ONESHOT', 'goal': 'cluster_maintenance',
            'strategy': 'host_drain', 'force': True,
            'parameters': {
                'maintenance_node': 'compute-1', 'backup_node': 'compute-3',
                'placement': 'pack', 'disable_live_migration': True,
                'skip_unmovable': True, 'max_parallel_migrations': 2}},
            created)
        self.assertRedirectsNoFollow(res, audit_url(self.watcher.audits[-1]))

    def test_several_hosts_are_drained_in_one_audit(self):
        self.client.post(ENTER, {
            'hosts': 'compute-1,compute-3', 'placement': 'spread',
            'allow_live_migration': 'on', 'max_parallel_migrations': '1'})
        [created] = self.watcher.audit.created
        self.assertEqual(['compute-1', 'compute-3'],
                         created['parameters']['maintenance_nodes'])
        self.assertFalse(created['parameters']['disable_live_migration'])

    def test_watcher_refusing_the_audit_is_said(self):
        self.watcher.audit.refuse = 'Invalid parameter: backup_node'
        res = self.client.post(ENTER, {
            'hosts': 'compute-1', 'placement': 'spread',
            'max_parallel_migrations': '1'}, follow=True)
        self.assertContains(res, 'Watcher refused the host_drain audit for '
                                 'compute-1: Invalid parameter: backup_node')
        self.assertEqual([], self.watcher.audits)

    def test_no_host_is_refused(self):
        res = self.client.get(ENTER, follow=True)
        self.assertContains(res, 'Choose at least one compute host.')


class ReviewTests(PanelTestCase):

    def test_planning_audit_reloads(self):
        audit = self.watcher.add_audit(
            'host_drain', {'maintenance_node': 'compute-1'}, 'ONGOING')
        res = self.client.get(audit_url(audit))
        self.assertContains(res, 'is planning')
        self.assertContains(res, 'window.location.reload()')
        self.assertNotContains(res, 'approve-plan')

    def test_plan_shows_each_guest_and_the_indicators(self):
        audit, plan = self.drained()
        res = self.client.get(audit_url(audit))
        self.assertEqual(
            [[2, 'migrate', 'web-1', 'compute-1 → compute-3', 'live'],
             [3, 'migrate', 'web-2', 'compute-1 → compute-3', 'cold']],
            [row for row in res.context['steps'] if row[1] == 'migrate'])
        self.assertContains(res, 'compute-1 → compute-3')
        self.assertContains(res, 'Guests live-migrated')
        self.assertContains(res, 'Every guest of compute-1 has a place.')
        self.assertContains(res, 'id="approve-plan"')
        self.assertContains(res, 'id="discard-plan"')
        self.assertNotContains(res, 'window.location.reload()')

    def test_refusal_shows_its_sentence(self):
        audit = self.watcher.add_audit(
            'host_drain', {'maintenance_node': 'compute-1'}, 'FAILED',
            'web-1 needs 8 vCPU; the most any allowed host has free is 4. '
            'Nothing was planned.')
        res = self.client.get(audit_url(audit))
        self.assertContains(res, 'Watcher refused:')
        self.assertContains(res, 'web-1 needs 8 vCPU; the most any allowed '
                                 'host has free is 4. Nothing was planned.')
        self.assertNotContains(res, 'approve-plan')

    def test_approve_starts_the_plan(self):
        audit, plan = self.drained()
        res = self.client.post(audit_url(audit), {'plan': plan['uuid'],
                                                  'action': 'approve'})
        self.assertEqual([plan['uuid']], self.watcher.action_plan.started)
        self.assertRedirectsNoFollow(res, plan_url(plan))

    def test_discard_cancels_the_plan(self):
        audit, plan = self.drained()
        res = self.client.post(audit_url(audit), {'plan': plan['uuid'],
                                                  'action': 'discard'})
        self.assertEqual([plan['uuid']], self.watcher.action_plan.cancelled)
        self.assertEqual([], self.watcher.action_plan.started)
        self.assertRedirectsNoFollow(res, INDEX)


class ResultsTests(PanelTestCase):

    def test_running_plan_reloads_and_shows_each_guest(self):
        audit, plan = self.drained('ONGOING', 'ONGOING')
        res = self.client.get(plan_url(plan))
        self.assertContains(res, 'window.location.reload()')
        self.assertEqual(
            [['web-1', 'project-a', 'compute-1', 'compute-3', 'live',
              'running', 'Nova shows it on compute-1, ACTIVE'],
             ['web-2', 'project-b', 'compute-1', 'compute-3', 'cold',
              'running', 'Nova shows it on compute-1, ACTIVE']],
            res.context['result_rows'])
        self.assertNotContains(res, 'Final state of the node')

    def test_succeeded_plan_shows_the_node_in_maintenance(self):
        audit, plan = self.drained('SUCCEEDED', 'SUCCEEDED')
        self.services[0] = fakes.in_maintenance('compute-1')
        for guest in self.servers[:2]:
            setattr(guest, 'OS-EXT-SRV-ATTR:host', 'compute-3')
        res = self.client.get(plan_url(plan))
        self.assertNotContains(res, 'window.location.reload()')
        self.assertEqual(['done', 'done'],
                         [row[5] for row in res.context['result_rows']])
        self.assertContains(res, 'Done: every one of the 2 guest actions '
                                 'succeeded.')
        self.assertEqual([['compute-1', 'In maintenance', 'up', 'none']],
                         res.context['node_states'])

    def test_failed_plan_says_which_guest_and_why(self):
        audit, plan = self.drained('FAILED', 'SUCCEEDED')
        self.watcher.actions[-1].update(
            state='FAILED', status_message='No valid host was found.')
        self.services[0] = fakes.in_maintenance('compute-1')
        setattr(self.servers[0], 'OS-EXT-SRV-ATTR:host', 'compute-3')
        res = self.client.get(plan_url(plan))
        self.assertEqual(
            ['web-2', 'project-b', 'compute-1', 'compute-3', 'cold',
             'FAILED', 'No valid host was found.'],
            res.context['result_rows'][1])
        self.assertContains(res, 'The plan ended FAILED: 1 of 2 guest '
                                 'actions failed or did not run.')
        self.assertEqual('web-2', res.context['node_states'][0][3])


class ExitTests(PanelTestCase):

    def test_modal_and_submit_create_the_host_restore_audit(self):
        res = self.client.get(EXIT + '?host=compute-2')
        self.assertTemplateUsed(res, 'host_maintenance/exit.html')
        self.assertEqual(['none', 'drained'], [
            value for value, _ in
            res.context['form'].fields['return_guests'].choices])
        res = self.client.post(EXIT, {'hosts': 'compute-2',
                                      'return_guests': 'drained',
                                      'force': 'on'})
        [created] = self.watcher.audit.created
        self.assertEqual('host_restore', created['strategy'])
        self.assertEqual({'maintenance_node': 'compute-2',
                          'return_guests': 'drained', 'force': True},
                         created['parameters'])
        self.assertRedirectsNoFollow(res, audit_url(self.watcher.audits[-1]))

    def test_restore_plan_is_reviewed_like_a_drain(self):
        audit = self.watcher.add_audit(
            'host_restore', {'maintenance_node': 'compute-2',
                             'return_guests': 'drained'}, 'SUCCEEDED')
        plan = self.watcher.add_plan(audit, 'RECOMMENDED')
        self.watcher.add_action(
            plan, 'change_nova_service_state', resource_name='compute-2',
            state='enabled')
        self.watcher.add_migration(plan, self.servers[2], 'compute-3',
                                   'compute-2', 'cold')
        res = self.client.get(audit_url(audit))
        self.assertContains(res, 'Exit maintenance')
        self.assertContains(res, 'compute-3 → compute-2')
        self.assertContains(res, 'id="approve-plan"')


class HypervisorsPage(PanelTestCase):

    def hypervisors_page(self):
        """Admin -> Compute -> Hypervisors, its own reads patched."""
        self._patch('openstack_dashboard.api.nova.hypervisor_list',
                    return_value=self.hypervisors.list())
        self._patch('openstack_dashboard.api.nova.hypervisor_stats',
                    return_value=self.hypervisors.stats)
        self._patch('openstack_dashboard.api.placement.get_providers',
                    return_value=[])
        return self.client.get(reverse('horizon:admin:hypervisors:index'))


class HypervisorsTabTests(HypervisorsPage):
    """Admin -> Hypervisors gets a Maintenance tab through EXTRA_TABS."""

    def test_maintenance_tab_lists_the_hosts_with_their_actions(self):
        audit, plan = self.drained('SUCCEEDED', 'SUCCEEDED')
        self.services[0] = fakes.in_maintenance('compute-1')
        res = self.hypervisors_page()
        tab = res.context['tab_group'].get_tab('maintenance')
        self.assertIsNotNone(tab)
        table = tab._tables['compute_hosts']
        self.assertEqual(['compute-1', 'compute-2', 'compute-3'],
                         [row.host for row in table.data])
        self.assertContains(res, 'In maintenance')
        self.assertContains(res, 'href="%s"' % plan_url(plan))
        self.assertEqual(['exit'], [a.name for a in table.get_row_actions(
            table.data[0])])
        self.assertContains(res, '%s?host=compute-3' % ENTER)


class HypervisorsTabWithoutWatcherTests(HypervisorsPage):
    with_watcher = False

    def test_no_maintenance_tab_without_watcher(self):
        res = self.hypervisors_page()
        self.assertEqual(200, res.status_code)
        self.assertIsNone(res.context['tab_group'].get_tab('maintenance'))
        self.get_client.assert_not_called()

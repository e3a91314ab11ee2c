"""Enter and exit maintenance in headless Chromium, against real Watcher
services (the sandbox served on 127.0.0.1): the plans these pages show
are plans Watcher's decision engine made, and approving one runs it in
Watcher's applier against the emulated Nova.
"""

from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from watcher_maintenance.cli import watcher_ops
from watcher_maintenance import names
from watcher_maintenance.tests.dashboard import browser

INDEX = reverse('horizon:admin:host_maintenance:index')
COMPUTE_1_GUESTS = ['app-1', 'batch-1', 'web-1', 'web-2']


class MaintenanceInTheBrowser(browser.BrowserTestCase):

    def host_row(self, host):
        return self.find('tr[data-object-id="%s"]' % host)

    def host_cells(self, host):
        """``{column header: text}`` of the host's row."""
        headers = [th.text for th in self.find_all(
            '#compute_hosts thead tr.table_column_header th')]
        return dict(zip(headers, (cell.text for cell in self.host_row(
            host).find_elements(By.TAG_NAME, 'td'))))

    def watch_results(self):
        """Wait on the results page until its plan has ended."""
        self.wait(lambda d: '/plan/' in d.current_url,
                  message='the approved plan did not open its results')
        return self.wait(
            lambda d: self.find('#results-plan-state').text
            in watcher_ops.PLAN_FINAL and self.find('#outcome'),
            timeout=browser.PLAN_TIMEOUT,
            message='the plan did not end in %d s' % browser.PLAN_TIMEOUT)

    def open_modal(self, host, status, action):
        """From the host list, the row action's modal for this host."""
        self.open(INDEX)
        self.wait(lambda d: self.host_row(host))
        self.assertEqual(status, self.host_cells(host)['Service Status'])
        self.host_row(host).find_element(By.LINK_TEXT, action).click()
        self.wait(lambda d: self.find('.modal-footer .btn-primary')
                  .is_displayed())

    def submit_modal(self):
        self.find('.modal-footer .btn-primary').click()

    def approve_on_review(self):
        self.wait(lambda d: self.find('#approve-plan'),
                  message='no plan to approve on %s' %
                  self.selenium.current_url)

    def test_enter_maintenance_review_approve_and_follow(self):
        self.open_modal('compute-1', 'Enabled', 'Enter Maintenance')
        # The modal: the drain's main choices.
        self.assertEqual(
            ['', 'compute-2', 'compute-3'],
            [o.get_attribute('value') for o in Select(
                self.find('.modal #id_backup_node')).options])
        parallel = self.find('.modal #id_max_parallel_migrations')
        parallel.clear()
        parallel.send_keys('2')
        self.screenshot('dashboard-enter-modal.png')
        self.submit_modal()

        # The review: the plan Watcher made, guest by guest.
        self.approve_on_review()
        self.assertIn('/audit/', self.selenium.current_url)
        self.assertEqual('SUCCEEDED', self.text('#audit-state'))
        self.assertEqual('RECOMMENDED', self.text('#plan-state'))
        plan_uuid = self.find('#plan-state').find_element(
            By.XPATH, '..').find_element(By.TAG_NAME, 'code').text
        shown = {row[2]: row for row in self.rows('#plan-steps tr.plan-step')
                 if row[1] == 'migrate'}
        self.assertEqual(COMPUTE_1_GUESTS, sorted(shown))
        self.assertEqual('cold', shown['batch-1'][4])     # stopped guest
        self.assertEqual('live', shown['web-1'][4])
        ops = self.served.ops()
        made = {a['input_parameters']['resource_name']:
                a['input_parameters']['destination_node']
                for a in ops.actions_of(plan_uuid)
                if a['action_type'] == 'migrate'}
        self.assertEqual({name: 'compute-1 → %s' % dest
                          for name, dest in made.items()},
                         {name: row[3] for name, row in shown.items()})
        self.assertTrue(self.find_all('#indicators tbody tr'))
        self.screenshot('dashboard-plan-review.png')

        # Approve, then follow the results until the plan has ended.
        self.find('#approve-plan').click()
        self.watch_results()
        self.assertEqual('SUCCEEDED', self.text('#results-plan-state'))
        results = {row[0]: row for row in
                   self.rows('#guest-results tr.guest-result')}
        self.assertEqual(COMPUTE_1_GUESTS, sorted(results))
        self.assertEqual({'done'}, {row[5] for row in results.values()})
        self.assertEqual({name: dest for name, dest in made.items()},
                         {name: row[3] for name, row in results.items()})
        self.assertEqual([['compute-1', 'In maintenance', 'up', 'none']],
                         self.rows('#node-states tr.node-state'))
        self.screenshot('dashboard-results.png')

        # The panel now shows the host in maintenance.
        self.open(INDEX)
        self.wait(lambda d: self.host_row('compute-1'))
        self.assertEqual({
            '': '', 'Host': 'compute-1', 'Availability Zone': 'az-1',
            'Service Status': 'In maintenance', 'State': 'up', 'Guests': '0',
            'Maintenance Audit': 'host_drain SUCCEEDED', 'Plan': 'SUCCEEDED',
            'Actions': 'Exit Maintenance'}, self.host_cells('compute-1'))
        self.screenshot('dashboard-panel.png')

    def test_exit_maintenance_returns_the_drained_guests(self):
        # compute-3 was drained outside the browser, as the CLI does it.
        ops = self.served.ops()
        deadline = watcher_ops.Deadline(browser.PLAN_TIMEOUT)
        audit = ops.wait_audit(ops.create_audit(
            names.DRAIN_STRATEGY, {'maintenance_node': 'compute-3'})['uuid'],
            deadline)
        drain = ops.plan_of(audit['uuid'])
        ops.start_plan(drain['uuid'])
        self.assertEqual('SUCCEEDED',
                         ops.follow_plan(drain['uuid'], deadline)['state'])
        # cache-1, and whatever the other test moved there first.
        drained = sorted(a['input_parameters']['resource_name']
                         for a in ops.actions_of(drain['uuid'])
                         if a['action_type'] == 'migrate')
        self.assertIn('cache-1', drained)

        # In maintenance, Exit is the row's first action.
        self.open_modal('compute-3', 'In maintenance', 'Exit Maintenance')
        # Horizon's theme hides the radio itself behind its label.
        radio = self.find('.modal input[name="return_guests"]'
                          '[value="drained"]')
        self.find('.modal label[for="%s"]' % radio.get_attribute('id')
                  ).click()
        self.assertTrue(radio.is_selected())
        self.submit_modal()

        self.approve_on_review()
        shown = [row for row in self.rows('#plan-steps tr.plan-step')
                 if row[1] == 'migrate']
        self.assertEqual(drained, sorted(row[2] for row in shown))
        self.assertEqual({'compute-3'},
                         {row[3].split(' → ')[1] for row in shown})
        self.find('#approve-plan').click()
        self.watch_results()
        self.assertEqual('SUCCEEDED', self.text('#results-plan-state'))
        results = self.rows('#guest-results tr.guest-result')
        self.assertEqual([(name, 'compute-3', 'done') for name in drained],
                         sorted((r[0], r[3], r[5]) for r in results))
        self.assertEqual([['compute-3', 'Enabled', 'up', ', '.join(drained)]],
                         self.rows('#node-states tr.node-state'))
        self.screenshot('dashboard-exit-results.png')

"""The browser suite's harness: headless Chromium over Horizon's live
server, with the admin's service catalog pointing at a served sandbox.

* ``ServedSandbox`` runs ``watcher-maintenance sandbox serve`` in a
  process of its own (real Watcher API, decision engine and applier,
  the emulated Nova and Placement) and reads its URLs from its output.
* ``identity.Identity`` answers novaclient's token exchange.
* ``BrowserTestCase`` is Horizon's ``SeleniumAdminTestCase`` (faked
  admin login, Django's live server in this process) serving static
  files and compiled SCSS, with a Chrome driver instead of Firefox.

Screenshots go to ``$WM_SCREENSHOTS`` when it is set
(``make dashboard-screenshots`` sets it to ``doc/source/images``).
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time

from django.contrib.staticfiles import testing as static_testing
from django.test import utils as test_utils
from openstack_dashboard.test import helpers
from selenium import webdriver
from selenium.common import exceptions as selenium_exceptions
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from watcherclient import client as watcher_client

from watcher_maintenance.cli import watcher_ops
from watcher_maintenance.sandbox.serve import READY
from watcher_maintenance.tests.dashboard import identity

HERE = os.path.dirname(os.path.abspath(__file__))
CLUSTER = os.path.join(HERE, 'cluster.yaml')
# Upper bounds on waiting; they only turn a hang into a failure.
SANDBOX_START_TIMEOUT = 180
PAGE_TIMEOUT = 60
PLAN_TIMEOUT = 240
CHROMIUM = ('chromium', 'chromium-browser', 'google-chrome')
CHROMEDRIVER = ('chromedriver',)


def _which(names, extra=('/usr/bin', '/usr/lib/chromium')):
    for name in names:
        found = shutil.which(name) or next(
            (os.path.join(d, name) for d in extra
             if os.access(os.path.join(d, name), os.X_OK)), None)
        if found:
            return found
    raise RuntimeError('None of %s is installed; `make test-dashboard` '
                       'installs Debian\'s chromium and chromium-driver.'
                       % ', '.join(names))


class ServedSandbox:
    """``watcher-maintenance sandbox serve`` in a child process."""

    def __init__(self, topology=CLUSTER):
        self.topology = topology
        self.env = {}

    def start(self):
        command = [os.path.join(os.path.dirname(sys.executable),
                                'watcher-maintenance'),
                   'sandbox', 'serve', '--topology', self.topology]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + SANDBOX_START_TIMEOUT
        output = b''
        while READY.encode() not in output:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError('sandbox serve not ready after %d s'
                                   % SANDBOX_START_TIMEOUT)
            ready, _, _ = select.select([self.process.stdout], [], [], 1)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError('sandbox serve exited with %s before '
                                       'it was ready' % self.process.wait())
                output += chunk
        for line in output.decode().splitlines():
            if line.startswith('export '):
                key, _, value = line[len('export '):].partition('=')
                self.env[key] = value.strip()
        self.watcher_url = self.env['OS_ENDPOINT']
        self.nova_url = self.env['OS_COMPUTE_ENDPOINT_OVERRIDE']
        self.placement_url = self.env['OS_PLACEMENT_ENDPOINT_OVERRIDE']
        return self

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def ops(self):
        """Watcher, as a script beside the browser would reach it."""
        return watcher_ops.WatcherOps(watcher_client.get_client(
            '1', watcher_url=self.watcher_url, os_auth_token='sandbox',
            os_infra_optim_api_version=watcher_ops.API_VERSION),
            sleep=time.sleep)


def _entry(kind, name, url):
    return {'type': kind, 'name': name, 'endpoints_links': [],
            'endpoints': [{'region': 'RegionOne', 'interface': interface,
                           'url': url}
                          for interface in ('admin', 'internal', 'public')]}


def catalog(served, identity_url):
    """The admin's service catalog: the sandbox's Watcher, Nova and
    Placement, and the identity stand-in."""
    return [_entry('infra-optim', 'watcher', served.watcher_url),
            _entry('compute', 'nova', served.nova_url),
            _entry('placement', 'placement', served.placement_url),
            _entry('identity', 'keystone', identity_url)]


def chrome():
    options = webdriver.ChromeOptions()
    options.binary_location = _which(CHROMIUM)
    for argument in ('--headless=new', '--no-sandbox',
                     '--disable-dev-shm-usage', '--window-size=1400,1250',
                     '--disable-gpu'):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(
        executable_path=_which(CHROMEDRIVER)))


# Horizon's own settings compile its SCSS; its test settings do not.
STYLED = test_utils.override_settings(COMPRESS_PRECOMPILERS=(
    ('text/scss', 'horizon.utils.scss_filter.ScssFilter'),))


@STYLED
class BrowserTestCase(helpers.SeleniumAdminTestCase,
                      static_testing.StaticLiveServerTestCase):
    """Horizon's Selenium admin case in Chromium, against the sandbox."""

    @classmethod
    def setUpClass(cls):
        cls.served = ServedSandbox().start()
        cls.identity = identity.Identity().__enter__()
        try:
            cls.selenium = chrome()
            super().setUpClass()
        except BaseException:
            cls.identity.__exit__(None, None, None)
            cls.served.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.selenium.quit()
            cls.identity.__exit__(None, None, None)
            cls.served.stop()

    def setUp(self):
        super().setUp()
        self.selenium.implicitly_wait(0)
        self.setActiveUser(id=self.user.id, token=self.token,
                           username=self.user.name,
                           tenant_id=self.tenant.id,
                           service_catalog=catalog(self.served,
                                                   self.identity.url),
                           authorized_tenants=self.tenants.list())

    # -- helpers -----------------------------------------------------------

    def open(self, path):
        self.selenium.get(self.live_server_url + path)

    def wait(self, condition, timeout=PAGE_TIMEOUT, message=''):
        """Poll ``condition(driver)`` until it returns something true;
        pages that reload themselves make elements stale meanwhile."""
        return WebDriverWait(
            self.selenium, timeout, poll_frequency=0.5,
            ignored_exceptions=(
                selenium_exceptions.NoSuchElementException,
                selenium_exceptions.StaleElementReferenceException)).until(
                    condition, message)

    def find(self, css):
        return self.selenium.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.selenium.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.wait(lambda d: self.find(css).text,
                         message='no %s on %s' % (
                             css, self.selenium.current_url))

    def rows(self, css):
        """The cells of each row of a table, as text."""
        return [[cell.text for cell in row.find_elements(By.TAG_NAME, 'td')]
                for row in self.find_all(css)]

    def screenshot(self, name):
        folder = os.environ.get('WM_SCREENSHOTS')
        if folder:
            os.makedirs(folder, exist_ok=True)
            self.selenium.save_screenshot(os.path.join(folder, name))

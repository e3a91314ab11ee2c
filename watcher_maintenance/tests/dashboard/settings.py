"""Django settings of the dashboard suite: Horizon's test settings with
watcher-dashboard's and this plugin's enabled files, as an operator's
``openstack_dashboard/local/enabled/`` would have them."""

import tempfile

from openstack_dashboard.test.settings import *  # noqa: F401,F403
from openstack_dashboard import enabled as horizon_enabled
from openstack_dashboard import theme_settings
from openstack_dashboard.utils import settings as settings_utils
from watcher_dashboard.local import enabled as watcher_enabled

from watcher_maintenance.dashboard import enabled as maintenance_enabled

# Horizon's test settings have already applied its own enabled files;
# apply them again with the two plugins, from the same starting point.
INSTALLED_APPS = [
    'django.contrib.contenttypes',
    'django.contrib.auth',
    'django.contrib.sessions',
    'django.contrib.staticfiles',
    'django.contrib.messages',
    'django.contrib.humanize',
    'openstack_auth',
    'compressor',
    'horizon',
    'openstack_dashboard',
]
for _key in ('angular_modules', 'js_files', 'js_spec_files', 'scss_files',
             'xstatic_modules', 'plugins'):
    HORIZON_CONFIG[_key] = []  # noqa: F405
HORIZON_CONFIG.pop("dashboards", None)  # noqa: F405
HORIZON_CONFIG.pop("default_dashboard", None)  # noqa: F405
settings_utils.update_dashboards(
    [horizon_enabled, watcher_enabled, maintenance_enabled],
    HORIZON_CONFIG, INSTALLED_APPS)  # noqa: F405
settings_utils.find_static_files(HORIZON_CONFIG, AVAILABLE_THEMES,  # noqa
                                 THEME_COLLECTION_DIR, ROOT_PATH)  # noqa

# The browser tests serve static files from the apps and compile SCSS on
# the fly (``browser.STYLED``), so that the pages and their screenshots
# are styled; the themes' SCSS is found through STATICFILES_DIRS.
COMPRESS_ENABLED = True
COMPRESS_OFFLINE = False
STATICFILES_DIRS = theme_settings.get_theme_static_dirs(  # noqa: F405
    AVAILABLE_THEMES, THEME_COLLECTION_DIR, ROOT_PATH) + list(  # noqa: F405
        STATICFILES_DIRS)  # noqa: F405
COMPRESS_ROOT = tempfile.mkdtemp(prefix='wm-dashboard-static-')
# Horizon's full URLs (its test URLs lack the header that pages load).
ROOT_URLCONF = 'openstack_dashboard.urls'
DEBUG = False

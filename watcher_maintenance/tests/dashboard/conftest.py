"""The dashboard suite runs only when asked for.

``make test-dashboard`` and ``tox -e dashboard`` install the
``dashboard`` extra (Horizon, watcher-dashboard), selenium,
pytest-django and Debian's chromium + chromium-driver, and set
``WM_DASHBOARD=1`` and ``DJANGO_SETTINGS_MODULE``; without them these
tests are not collected.
"""

import os

collect_ignore_glob = []
if os.environ.get('WM_DASHBOARD') != '1':
    collect_ignore_glob.append('test_*.py')

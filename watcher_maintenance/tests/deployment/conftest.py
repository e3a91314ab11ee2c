"""The deployment bed runs only when asked for (it needs MariaDB and
RabbitMQ on 127.0.0.1, and starts Watcher's services and real Nova).

``make test-deployment`` and ``tox -e deployment`` set
``WM_DEPLOYMENT=1``; without it these tests are not collected, so
``make test`` needs neither.
"""

import os

collect_ignore_glob = []
if os.environ.get('WM_DEPLOYMENT') != '1':
    collect_ignore_glob.append('test_*.py')

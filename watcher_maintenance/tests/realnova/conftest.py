"""The real-Nova suite runs only when asked for (it starts real Nova).

``make test-realnova`` and ``tox -e functional-nova`` set
``WM_REALNOVA=1``; without it these tests are not collected, so
``make test`` stays quick and needs no Nova virtualenv.
"""

import os

collect_ignore_glob = []
if os.environ.get('WM_REALNOVA') != '1':
    collect_ignore_glob.append('test_*.py')

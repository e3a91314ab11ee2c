"""The Kubernetes bridge's end-to-end suite runs only when asked for.

``make test-kubernetes`` and ``tox -e kubernetes`` install the
``kubernetes`` extra (kopf, the kubernetes client) and ``kubectl`` and
set ``WM_KUBERNETES=1``; without it these tests are not collected.

kopf's decorators and the kubernetes client read their settings when
first imported, so the controller's settings (short ticks) and
``KUBECONFIG`` (a file each test rewrites for its own stand-in API
server) are set here, before any test module imports them.
"""

import os
import tempfile

collect_ignore_glob = []
if os.environ.get('WM_KUBERNETES') != '1':
    collect_ignore_glob.append('test_*.py')
else:
    os.environ['KUBECONFIG'] = os.path.join(
        tempfile.mkdtemp(prefix='wm-k8s-'), 'kubeconfig')
    os.environ['WM_K8S_POLL_SECONDS'] = '0.3'
    os.environ['WM_K8S_GUARD_NAMESPACE'] = 'watcher-maintenance'

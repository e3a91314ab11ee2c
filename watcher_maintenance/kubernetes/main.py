"""``watcher-maintenance-k8s``: run the Kubernetes bridge's controller.

Settings come from ``WM_K8S_*`` variables (``settings.py``), OpenStack
credentials from ``OS_CLOUD``/clouds.yaml or ``OS_*`` variables, and
the cluster from the in-cluster service account or ``KUBECONFIG``.
"""

from __future__ import annotations

import argparse
import asyncio


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='watcher-maintenance-k8s',
        description='Drain a compute node through Watcher when its '
                    'Kubernetes Node is cordoned; restore it on uncordon.')
    parser.add_argument('--verbose', action='store_true')
    args = parser.parse_args(argv)
    import kopf

    from watcher_maintenance.kubernetes import handlers
    from watcher_maintenance.kubernetes import openstack_side
    try:
        # Before kopf starts: a missing credential is one sentence.
        clients = handlers.connect_openstack()
    except openstack_side.NoCredentials as error:
        parser.exit(2, '%s\n' % error)
    handlers.connect_openstack = lambda: clients
    kopf.configure(verbose=args.verbose)
    asyncio.run(kopf.operator(standalone=True, clusterwide=True))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

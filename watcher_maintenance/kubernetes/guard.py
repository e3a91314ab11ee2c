"""The guard that holds ``kubectl drain`` until the hypervisor is empty.

Per selected Node: one Pod pinned to it (``spec.nodeName``) and a
PodDisruptionBudget with ``maxUnavailable: 0`` over it, so eviction
answers 429 and ``kubectl drain`` keeps retrying. The Pod names the
Node as its controlling owner: ``kubectl drain`` then treats it as
managed (it refuses bare Pods, and skips DaemonSet Pods, which is why
the guard is neither), and it goes away with the Node.

Lifting the hold deletes the budget; drain then evicts the Pod. Putting
it back recreates both.
"""

from __future__ import annotations

import logging

from watcher_maintenance.kubernetes import settings as wm_settings

LOG = logging.getLogger(__name__)


def guard_name(node_name):
    return 'wm-guard-%s' % node_name


class Guard:
    def __init__(self, core_api, policy_api, settings):
        self.core = core_api
        self.policy = policy_api
        self.namespace = settings.guard_namespace
        self.image = settings.guard_image

    @classmethod
    def connect(cls, settings):
        import kubernetes
        try:
            kubernetes.config.load_incluster_config()
        except kubernetes.config.ConfigException:
            kubernetes.config.load_kube_config()
        return cls(kubernetes.client.CoreV1Api(),
                   kubernetes.client.PolicyV1Api(), settings)

    def hold(self, node_name, node_uid):
        """Budget and Pod in place; True if anything was created."""
        created = self._create(
            self.policy.create_namespaced_pod_disruption_budget,
            self._budget(node_name))
        return self._create(self.core.create_namespaced_pod,
                            self._pod(node_name, node_uid)) or created

    def release(self, node_name):
        """Budget gone; True if it was there."""
        from kubernetes.client.exceptions import ApiException
        try:
            self.policy.delete_namespaced_pod_disruption_budget(
                guard_name(node_name), self.namespace)
        except ApiException as error:
            if error.status == 404:
                return False
            raise
        return True

    def _create(self, create, body):
        from kubernetes.client.exceptions import ApiException
        try:
            create(self.namespace, body)
        except ApiException as error:
            if error.status == 409:
                return False
            raise
        return True

    def _labels(self, node_name):
        return {wm_settings.GUARD_LABEL: node_name}

    def _budget(self, node_name):
        return {'apiVersion': 'policy/v1', 'kind': 'PodDisruptionBudget',
                'metadata': {'name': guard_name(node_name),
                             'labels': self._labels(node_name)},
                'spec': {'maxUnavailable': 0,
                         'selector': {'matchLabels':
                                      self._labels(node_name)}}}

    def _pod(self, node_name, node_uid):
        return {'apiVersion': 'v1', 'kind': 'Pod',
                'metadata': {
                    'name': guard_name(node_name),
                    'labels': self._labels(node_name),
                    'ownerReferences': [{
                        'apiVersion': 'v1', 'kind': 'Node',
                        'name': node_name, 'uid': node_uid,
                        'controller': True}]},
                'spec': {
                    'nodeName': node_name,
                    # The cordon taint must not push it off the node.
                    'tolerations': [{'operator': 'Exists'}],
                    'containers': [{
                        'name': 'hold', 'image': self.image,
                        'resources': {'requests': {'cpu': '1m',
                                                   'memory': '8Mi'}}}]}}

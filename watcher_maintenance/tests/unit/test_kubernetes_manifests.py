"""The deploy manifests and the controller agree on their settings."""

import pathlib

import yaml

from watcher_maintenance.kubernetes import settings

DEPLOY = pathlib.Path(__file__).parents[3] / 'deploy' / 'kubernetes'


def documents(name):
    return list(yaml.safe_load_all((DEPLOY / name).read_text()))


def test_deployment_sets_every_setting_and_only_known_ones():
    deployment, = documents('deployment.yaml')
    container, = deployment['spec']['template']['spec']['containers']
    names = {e['name'] for e in container['env']
             if e['name'].startswith('WM_K8S_')}
    assert names == {v for v, _ in settings.Settings.ENVIRONMENT.values()}
    assert container['command'] == ['watcher-maintenance-k8s']
    assert deployment['spec']['replicas'] == 1


def test_deployment_defaults_are_the_controllers_defaults():
    deployment, = documents('deployment.yaml')
    container, = deployment['spec']['template']['spec']['containers']
    environ = {e['name']: e['value'] for e in container['env']}
    assert settings.Settings.from_environment(environ) == \
        settings.Settings()


def test_controller_may_touch_what_it_touches():
    rules = {}
    for document in documents('rbac.yaml'):
        for rule in document.get('rules', []):
            for resource in rule['resources']:
                rules.setdefault(resource, set()).update(rule['verbs'])
    assert {'list', 'watch', 'patch'} <= rules['nodes']
    assert 'create' in rules['events']
    assert {'create', 'delete'} <= rules['pods']
    assert {'create', 'delete'} <= rules['poddisruptionbudgets']

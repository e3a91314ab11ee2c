"""host_drain refuses, in words, when Nova cannot answer its lookups."""

import pytest

from watcher_maintenance.planning.plan import PlanningRefused
from watcher_maintenance.watcher.base import fit_status
from watcher_maintenance.watcher.drain_strategy import HostDrain


def test_failed_nova_lookup_refuses_with_a_sentence():
    def broken():
        raise ConnectionError('connection refused')

    with pytest.raises(PlanningRefused) as refusal:
        HostDrain.ask_nova('server groups', broken)
    message = str(refusal.value)
    assert message.startswith('Nothing was planned: reading the server '
                              'groups of the cloud from Nova failed')
    assert 'connection refused' in message


def test_answers_pass_through():
    assert HostDrain.ask_nova('zones', lambda: {'c1': 'az1'}) == {
        'c1': 'az1'}


def test_status_messages_fit_watchers_column():
    long = 'x' * 1000
    fitted = fit_status(long)
    assert len(fitted) == 255
    assert fitted.endswith('(full text in the decision-engine log)')
    assert fit_status('short') == 'short'

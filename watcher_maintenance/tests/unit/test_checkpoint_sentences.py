"""The checkpoint stops the plan in words when it cannot read the cloud."""

from unittest import mock

from watcher_maintenance.watcher import actions


def checkpoint(**parameters):
    action = actions.MaintenanceCheckpoint(config=mock.Mock())
    action.input_parameters = dict(duration=0, action_plan_uuid='p',
                                   **parameters)
    return action


def unreachable():
    raise ConnectionError('placement is down')


def test_an_unreadable_cloud_stops_the_wave_with_a_sentence():
    with mock.patch.object(actions.live_state, 'LiveCloud', unreachable):
        text = checkpoint(migrations=['a'])._live_problem(None, [])
    assert text == (
        'Could not check the next wave of migrations against Nova and '
        'Placement (ConnectionError: placement is down), so nothing further '
        'was started. Check that the applier can reach Nova and Placement '
        'with admin rights, then run the audit again.')


def test_an_unreadable_cloud_stops_the_end_check_with_a_sentence():
    with mock.patch.object(actions.live_state, 'LiveCloud', unreachable):
        text = checkpoint(empty_node='compute-1')._live_problem(None, [])
    assert text.startswith('Could not check that compute-1 is empty')


def test_a_checkpoint_with_nothing_to_check_reads_nothing():
    with mock.patch.object(actions.live_state, 'LiveCloud', unreachable):
        assert checkpoint()._live_problem(None, []) is None

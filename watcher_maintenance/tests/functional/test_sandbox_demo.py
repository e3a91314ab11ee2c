"""``watcher-maintenance demo`` end to end, as an operator runs it."""

import contextlib
import io
import json
import os
import tempfile
import unittest

from watcher_maintenance.sandbox import demo

SMALL = {
    'hosts': [{'name': 'c1', 'availability_zone': 'az-1'},
              {'name': 'c2', 'availability_zone': 'az-1'},
              {'name': 'c3', 'availability_zone': 'az-2'}],
    'guests': [{'name': 'vm-{n}', 'count': 3, 'host': 'c1', 'vcpus': 2,
                'memory_mb': 4096, 'disk_gb': 20},
               {'name': 'off-1', 'host': 'c1', 'state': 'stopped'}],
}


def run(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = demo.main(argv + ['--width', '120'])
    return code, out.getvalue()


class TestDemo(unittest.TestCase):

    def topology_file(self, spec):
        handle, path = tempfile.mkstemp(suffix='.json')
        with os.fdopen(handle, 'w') as stream:
            json.dump(spec, stream)
        self.addCleanup(os.remove, path)
        return path

    def test_drains_the_node_of_a_given_topology(self):
        code, out = run(['demo', '--topology',
                         self.topology_file(SMALL), '--node', 'c1'])
        self.assertEqual(0, code, out)
        self.assertIn('Cluster before maintenance', out)
        self.assertIn('-p maintenance_node=c1', out)
        self.assertIn('off-1', out)
        self.assertIn('cold, shutoff', out)
        self.assertIn('Planned live migrations', out)
        self.assertIn('Action plan SUCCEEDED. c1 is disabled '
                      '(watcher_maintaining) with 0 guest(s) left', out)
        self.assertIn('No host over capacity: yes', out)

    def test_dry_run_changes_nothing(self):
        code, out = run(['demo', '--dry-run', '-p', 'placement=pack'])
        self.assertEqual(0, code, out)
        self.assertIn('-p placement=pack', out)
        self.assertIn('compute-03 → ', out)
        self.assertIn('--dry-run: the plan stays RECOMMENDED', out)
        self.assertNotIn('Cluster after maintenance', out)

    def test_refusal_is_shown_as_a_sentence(self):
        code, out = run(['demo', '--topology', self.topology_file(SMALL),
                         '--node', 'c1', '-p', 'backup_node=c1'])
        self.assertEqual(1, code)
        self.assertIn('FAILED', out)
        self.assertIn('c1', out)
        self.assertNotIn('Traceback', out)

    def test_bad_parameter_type_is_refused_by_watcher(self):
        code, out = run(['demo', '--topology', self.topology_file(SMALL),
                         '--node', 'c1', '-p', 'max_parallel_migrations=x'])
        self.assertEqual(1, code)
        self.assertIn('Watcher refused the audit', out)
        self.assertIn('max_parallel_migrations', out)

    def test_unknown_node(self):
        code, out = run(['demo', '--node', 'compute-99'])
        self.assertEqual(2, code)
        self.assertIn("No host named 'compute-99'", out)

"""The sample configuration in etc/ matches the options in the code."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[3]


def test_sample_config_is_current(tmp_path):
    out = tmp_path / 'sample.conf'
    subprocess.run(
        [sys.executable, '-m', 'oslo_config.generator',
         '--namespace', 'watcher_maintenance', '--wrap-width', '79',
         '--output-file', str(out)], check=True, cwd=ROOT)
    sample = (ROOT / 'etc' / 'watcher-maintenance.conf.sample').read_text()
    assert out.read_text() == sample, (
        'etc/watcher-maintenance.conf.sample is stale: run tox -e genconfig')

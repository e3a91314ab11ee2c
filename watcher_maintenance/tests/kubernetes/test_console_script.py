"""``watcher-maintenance-k8s`` without OpenStack credentials."""

import os
import pathlib
import subprocess
import sys


def test_missing_credentials_is_one_sentence_and_exit_2(tmp_path):
    script = pathlib.Path(sys.executable).with_name('watcher-maintenance-k8s')
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith('OS_')}
    environ['HOME'] = str(tmp_path)   # no ~/.config/openstack/clouds.yaml
    result = subprocess.run([str(script)], capture_output=True, text=True,
                            env=environ, cwd=tmp_path, timeout=60)
    assert result.returncode == 2, result.stderr
    assert 'Cannot reach OpenStack' in result.stderr
    assert 'Set OS_CLOUD' in result.stderr
    assert 'Traceback' not in result.stderr

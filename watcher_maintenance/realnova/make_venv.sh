#!/usr/bin/env bash
# Creates the virtualenv that runs real Nova and Placement for the
# real-Nova functional tests (watcher_maintenance/tests/realnova).
#
#   watcher_maintenance/realnova/make_venv.sh [VENV]   (default .venv-nova)
#
# Nova cannot share the Watcher virtualenv's import state (conflicting
# oslo.config options, eventlet), so it lives apart. A stamp file makes
# a second run free unless the requirements changed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${1:-${WM_NOVA_VENV:-.venv-nova}}"
python="${PYTHON:-python3}"
req="$here/requirements-nova.txt"
stamp="$venv/.installed"
if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
"$venv/bin/pip" install -q -r "$req"
cp "$req" "$stamp"

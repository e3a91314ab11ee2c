# Two entry points for a fresh machine with Python >= 3.10:
#   make demo   run the maintenance demo on the sandbox
#   make test   run every test (unit, property, functional)
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
SUDO ?= $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test unit test-realnova test-kubernetes test-deployment \
	test-dashboard dashboard-screenshots functional bench pep8 clean

$(STAMP): setup.cfg requirements.txt test-requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,sandbox,cli]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/watcher-maintenance demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider watcher_maintenance/tests

unit: $(STAMP)
	$(BIN)/python -m pytest -q watcher_maintenance/tests/unit

# Watcher's services against real Nova 34 + Placement 16 (fake virt
# driver), which run in a virtualenv of their own, made on first use.
# See doc/source/real_nova.rst.
NOVA_VENV ?= .venv-nova
test-realnova: $(STAMP)
	watcher_maintenance/realnova/make_venv.sh $(NOVA_VENV)
	WM_REALNOVA=1 WM_NOVA_VENV=$(abspath $(NOVA_VENV)) $(BIN)/python -m \
		pytest -q -p no:cacheprovider watcher_maintenance/tests/realnova

# Watcher deployed as an operator runs it: watcher-api, decision
# engines and appliers as separate processes over RabbitMQ and MariaDB
# (127.0.0.1, a vhost and a database per test), driving real Nova from
# the real-Nova bed's virtualenv; see doc/source/deployment.rst.
test-deployment: $(STAMP)
	watcher_maintenance/realnova/make_venv.sh $(NOVA_VENV)
	WM_DEPLOYMENT=1 WM_NOVA_VENV=$(abspath $(NOVA_VENV)) $(BIN)/python -m \
		pytest -q -p no:cacheprovider watcher_maintenance/tests/deployment

# The Kubernetes bridge end to end: real kubectl (Debian's
# kubernetes-client if the machine has none), the controller under kopf,
# real Watcher services; see doc/source/kubernetes.rst.
test-kubernetes: $(STAMP)
	$(BIN)/pip install -q -e '.[kubernetes]'
	command -v kubectl >/dev/null || { \
		$(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q kubernetes-client; }
	WM_KUBERNETES=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
		watcher_maintenance/tests/unit/test_kubernetes_reconcile.py \
		watcher_maintenance/tests/kubernetes

# The Horizon plugin: view tests, and browser tests in headless Chromium
# (Debian's chromium and chromium-driver if the machine has none) against
# the sandbox served on 127.0.0.1; see doc/source/dashboard.rst.
DASHBOARD_ENV = WM_DASHBOARD=1 \
	DJANGO_SETTINGS_MODULE=watcher_maintenance.tests.dashboard.settings
test-dashboard: $(STAMP)
	$(BIN)/pip install -q -e '.[dashboard,dashboard-test]'
	{ command -v chromium && command -v chromedriver; } >/dev/null || { \
		$(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q chromium chromium-driver; }
	$(DASHBOARD_ENV) $(BIN)/python -m pytest -q -p no:cacheprovider \
		watcher_maintenance/tests/dashboard

# The browser tests again, saving their screenshots for the docs.
dashboard-screenshots: test-dashboard
	$(DASHBOARD_ENV) WM_SCREENSHOTS=doc/source/images $(BIN)/python -m \
		pytest -q -p no:cacheprovider \
		watcher_maintenance/tests/dashboard/test_browser.py

# Style checks (flake8), as tox -e pep8 runs them.
pep8: $(STAMP)
	$(BIN)/pip install -q flake8
	$(BIN)/python -m flake8 watcher_maintenance benchmarks

functional: $(STAMP)
	$(BIN)/python -m pytest -q watcher_maintenance/tests/functional

# Benchmarks; rewrites doc/source/benchmarks.rst. BENCH_ARGS=--quick
# for a short run.
bench: $(STAMP)
	$(BIN)/pip install -q -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

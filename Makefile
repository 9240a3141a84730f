# The two commands of the README: `make demo` (set up, start the node standalone, forecast) and `make test`.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt
STAMP := $(VENV)/.installed
PLUGINS := plugins/builtin_sktime plugins/builtin_timer plugins/chronos2 plugins/moment plugins/toto plugins/moirai

.PHONY: setup demo cluster-demo test bench clean

# pip stays quiet (its output is pages of noise); each step says what it does, since the first run takes minutes.
$(STAMP): pyproject.toml constraints.txt requirements-dev.txt $(wildcard plugins/*/pyproject.toml)
	@echo "==> setting up $(VENV) (first time: a few minutes; later runs skip this)"
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	@echo "==> [1/2] installing torch 2.13.0 (the largest download)"
	@$(PIP) torch==2.13.0
	@echo "==> [2/2] installing ainode-core, the built-in plugins ($(notdir $(PLUGINS))) and the test tools"
	@$(PIP) -e . $(addprefix -e ,$(PLUGINS)) -r requirements-dev.txt
	@touch $@
	@echo "==> $(VENV) is ready"

setup: $(STAMP)

demo: setup
	$(VENV)/bin/ainode demo

# A real Apache IoTDB cluster (jars from Maven Central; IOTDB_VERSION=2.0.8 picks another version) with this
# node joined to it: the docs' SQL through IoTDB, then everything stops.
cluster-demo: setup
	$(VENV)/bin/ainode cluster-demo

test: setup
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf $(VENV) demo-home

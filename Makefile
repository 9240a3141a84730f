# The two commands of the README: `make demo` (set up, start the node standalone, forecast) and `make test`.
PYTHON ?= python3
VENV := .venv
PIP := $(VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints.txt
STAMP := $(VENV)/.installed
PLUGINS := plugins/builtin_sktime plugins/builtin_timer plugins/chronos2

.PHONY: setup demo cluster-demo test bench clean

$(STAMP): pyproject.toml constraints.txt requirements-dev.txt $(wildcard plugins/*/pyproject.toml)
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e . $(addprefix -e ,$(PLUGINS)) -r requirements-dev.txt
	touch $@

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

# The two commands of the README:
#   make demo   set everything up, run the project's demo workflow (project.yml) on the shipped demo corpus
#   make test   set everything up, run the whole test suite (what .ci/run calls)
# and, for the edit-test loop, make test-fast: the fast tier of the tests (under two minutes)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser labelstudio demo screenshots test test-fast clean lock

setup: $(STAMP)

PLUGINS := plugins/autolabel-medical plugins/autolabel-finance plugins/autolabel-resume-zh

REQUIREMENTS := -e ".[transformers,project,ray,pretrain,test]" $(addprefix -e ,$(PLUGINS))

# every package at the version of constraints.txt, so that a setup on another
# day trains bit-identical models on the same kind of machine
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS)) constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt $(REQUIREMENTS)
	# the medical plugin's public vocabularies, built from its terminology packages
	$(PY) -m autolabel_medical
	touch $(STAMP)

# rewrite constraints.txt: resolve the requirements afresh in a throwaway venv
# and pin what it installed (after a change of dependencies in a pyproject.toml)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet $(REQUIREMENTS)
	{ echo "# Exact versions of what 'make setup' installs, resolved by 'make lock' on $$(date -u +%F)"; \
	  echo "# (Python $$(.lock-venv/bin/python -c 'import platform; print(platform.python_version(), platform.machine())'))."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.txt
	rm -rf .lock-venv

# convert -> train -> evaluate -> annotate -> package; a second run skips every
# step whose inputs did not change (project.lock). No .pyc files are written
# so the package step's hash of autolabel_spacy/ stays put between runs.
demo: setup
	$(VENV)/bin/autolabel domains list
	PYTHONDONTWRITEBYTECODE=1 $(PY) -m spacy project run demo .
	$(VENV)/bin/autolabel tag training/demo/model-best \
		"Patients with asthma received salbutamol twice daily ." \
		"She developed nephrotic syndrome three weeks after starting rituximab ." \
		"The clinic enrolled 120 volunteers in March ."

# every test; tiers and markers: conftest.py. Two pytest workers (pytest-xdist),
# one per core, each taking whole test files (--dist loadfile): the Ray
# engine's tests, which start and stop a Ray each, run one at a time.
PYTEST := $(PY) -m pytest -q -n 2 --dist loadfile

# the report pages of the demo (after make demo) in headless Chromium: the
# pictures docs/ and README show
screenshots: browser
	chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1250 \
		--screenshot=docs/report-evaluate.png metrics/demo/dev.html
	chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1000 \
		--screenshot=docs/report-review.png review/demo.html

# Debian's headless Chromium and its driver, for the test that opens the
# report page in a browser (CI runs as root; installed once, then a no-op),
# without the recommended packages (printer tools, avahi, perl...): the tests
# pass without them in a fresh Debian 12 (tools/browser-in-fresh-debian.sh)
browser:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		{ apt-get update -q && apt-get install -y -q --no-install-recommends chromium chromium-driver; }

# a real Label Studio (pinned by constraints-labelstudio.txt) in a venv of its
# own, for the end-to-end test of autolabel serve (its Django pins are its own),
# with label-studio-sdk for scripting a project; start it as README says
# (LATEST_VERSION_CHECK=false SENTRY_DSN= COLLECT_ANALYTICS=false: nothing leaves the machine)
LS_VENV := .venv-labelstudio
$(LS_VENV)/.installed: constraints-labelstudio.txt
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet -c constraints-labelstudio.txt label-studio label-studio-sdk
	touch $@

labelstudio: $(LS_VENV)/.installed

test: setup browser labelstudio
	$(PYTEST) --slow

test-fast: setup
	$(PYTEST)

clean:
	rm -rf corpus training metrics review vocab packages project.lock benchmarks/results

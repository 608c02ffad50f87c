# The two commands of the README:
#   make demo   set everything up, run the project's demo workflow (project.yml) on the shipped demo corpus
#   make test   set everything up, run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test clean

setup: $(STAMP)

PLUGINS := plugins/autolabel-medical plugins/autolabel-finance plugins/autolabel-resume-zh

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[transformers,project,ray,test]" $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

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

test: setup
	$(PY) -m pytest -q

clean:
	rm -rf corpus training metrics review vocab packages project.lock benchmarks/results

# The two commands of the README:
#   make demo   set everything up, train briefly on the shipped demo corpus, tag text
#   make test   set everything up, run the whole test suite (what .ci/run calls)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO := autolabel_spacy/demo

.PHONY: setup demo test benchmark clean

setup: $(STAMP)

PLUGINS := plugins/autolabel-medical plugins/autolabel-finance plugins/autolabel-resume-zh

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[transformers,test]" $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

demo: setup
	$(VENV)/bin/autolabel domains list
	$(VENV)/bin/autolabel convert $(DEMO)/train.tsv corpus/demo/train.spacy
	$(VENV)/bin/autolabel convert $(DEMO)/dev.tsv corpus/demo/dev.spacy
	$(PY) -m spacy train configs/crf_fast.cfg --output training/demo \
		--paths.train corpus/demo/train.spacy --paths.dev corpus/demo/dev.spacy \
		--training.max_epochs 8 --training.max_steps 0 --training.eval_frequency 50
	$(VENV)/bin/autolabel tag training/demo/model-best \
		"Patients with asthma received salbutamol twice daily ." \
		"Tamoxifen reduced the risk of breast cancer in older adults ." \
		"The clinic enrolled 120 volunteers in March ."

test: setup
	$(PY) -m pytest -q

benchmark: setup
	$(PY) benchmarks/compare_ner.py --dataset ncbi_disease --config configs/crf_fast.cfg

clean:
	rm -rf corpus training benchmarks/results

"""The annotation loop: annotate and route, select, import, audit, evaluate.
Each step is a plain function here; ``autolabel_spacy/cli`` wraps them."""

"""``autolabel serve``: a Label Studio ML backend around a pipeline.

- ``labeling_config.py``: what a project's labeling config asks for, checked
  against the pipeline's labels;
- ``backend.py``: the served model, its predictions and the annotations
  collected from Label Studio's webhooks;
- ``app.py``: the HTTP protocol Label Studio calls (``/health``, ``/setup``,
  ``/predict``, ``/webhook``), with its credentials and size limits.
"""

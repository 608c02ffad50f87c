"""The HTTP side of the Label Studio ML backend (Flask; served by waitress).

Routes, as Label Studio calls them: ``GET /health`` (and ``/``), ``POST
/setup`` (a project's labeling config), ``POST /predict`` (``{"tasks": [...],
"label_config": ..., "project": ...}`` -> ``{"results": [prediction, ...],
"model_version": ...}``), ``POST /webhook`` (annotation events, and
``START_TRAINING``), ``POST /train`` (the same start from older Label
Studios), and ``GET /metrics`` (what was received).

Security: credentials, when configured, are required on every route but
``/health``: basic auth, which Label Studio sends with predictions *and*
webhooks only when the backend URL carries it (``http://user:pass@host``),
or ``Authorization: Token ...``/``Bearer ...`` for other clients (Label
Studio 1.23 cannot send a token); compared in constant time;
request bodies over ``max_body_bytes`` are refused (413); a request never
names a file or a model to load. A refused request gets a JSON ``{"error":
...}`` with its status and one log line; the server keeps serving.
"""

from __future__ import annotations

import hmac
import json
import logging
from dataclasses import dataclass
from typing import Optional

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from .backend import ANNOTATION_EVENTS, Backend, RequestError

log = logging.getLogger("autolabel.serve")
# Label Studio sends the BASIC_AUTH fields of its model connection with predictions but not with the
# webhook it makes for the model: only credentials in the URL travel with both
WEBHOOK_HINT = (
    "a webhook came without credentials: connect the model in Label Studio with the URL form "
    "http://USER:PASSWORD@HOST:PORT (its Basic Authentication fields are not sent with webhooks); "
    "the annotation is still in Label Studio"
)


@dataclass(frozen=True)
class Credentials:
    """What a request must carry: basic auth ``user``/``password``, or the
    ``token`` (either one, when both are set); nothing set: no check."""

    user: Optional[str] = None
    password: Optional[str] = None
    token: Optional[str] = None

    @property
    def required(self) -> bool:
        return bool(self.user or self.token)

    def accept(self, req) -> bool:
        if self.user and req.authorization is not None and req.authorization.type == "basic":
            given = req.authorization
            return _same(given.username or "", self.user) & _same(given.password or "", self.password or "")
        if self.token:
            header = req.headers.get("Authorization", "")
            scheme, _, value = header.partition(" ")
            if scheme.lower() in ("token", "bearer") and value:
                return _same(value.strip(), self.token)
        return False


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def create_app(backend: Backend, credentials: Credentials = Credentials(), max_body_bytes: int = 10 * 2**20) -> Flask:
    app = Flask("autolabel_serve")
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes

    def body() -> dict:
        raw = request.get_data(cache=True)
        try:
            data = json.loads(raw)
        except RecursionError:
            raise RequestError("the request body nests too deeply") from None
        except ValueError as err:
            raise RequestError(f"the request body is not JSON ({err})") from None
        if not isinstance(data, dict):
            raise RequestError("the request body must be a JSON object")
        return data

    @app.before_request
    def check_credentials():
        if request.path in ("/", "/health") or not credentials.required:
            return None
        if not credentials.accept(request):
            backend.unauthenticated += 1
            log.warning(
                "refused %s %s from %s: no valid credentials", request.method, request.path, request.remote_addr
            )
            if request.path == "/webhook":
                log.warning(WEBHOOK_HINT)
            response = jsonify(error="credentials required")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Basic realm="autolabel"'
            return response
        return None

    @app.get("/")
    @app.get("/health")
    def health():
        return jsonify(status="UP", model_class="autolabel-spacy", model_version=backend.model_version)

    @app.post("/setup")
    def setup():
        data = body()
        return jsonify(backend.setup(data.get("project"), data.get("schema")))

    @app.post("/predict")
    def predict():
        data = body()
        config = backend.config_for(data.get("label_config"), data.get("project"))
        results = backend.predict(data.get("tasks"), config)
        return jsonify(results=results, model_version=backend.model_version)

    @app.post("/webhook")
    def webhook():
        data = body()
        event = data.get("action")
        if not isinstance(event, str):
            raise RequestError("a webhook needs its 'action'")
        return jsonify(backend.receive(event, data)), 201 if event in ANNOTATION_EVENTS else 200

    @app.post("/train")
    def train():  # older Label Studios' "Start Training": the annotations already came through the webhook
        body()
        return jsonify(backend.train_now()), 201

    @app.get("/metrics")
    def metrics():
        return jsonify(backend.status())

    @app.errorhandler(RequestError)
    def refused(err: RequestError):
        log.warning("refused %s %s: %s", request.method, request.path, err)
        return jsonify(error=str(err)), err.status

    @app.errorhandler(RecursionError)
    def too_deep(err: RecursionError):  # a payload nested past what the readers can walk: its own 400
        log.warning("refused %s %s: nested too deeply", request.method, request.path)
        return jsonify(error="the request nests too deeply"), 400

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        log.warning("refused %s %s: %s %s", request.method, request.path, err.code, err.name)
        return jsonify(error=f"{err.name}: {err.description}"), err.code

    @app.errorhandler(Exception)
    def internal(err: Exception):  # a bug: logged with its traceback, answered, and the server keeps serving
        log.exception("internal error on %s %s", request.method, request.path)
        return jsonify(error=f"internal error: {type(err).__name__}"), 500

    return app

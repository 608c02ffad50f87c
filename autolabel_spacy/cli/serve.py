"""``autolabel serve``: the pipeline as a Label Studio ML backend."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from waitress import serve

from ..serve.app import Credentials, create_app
from ..serve.backend import Backend
from ..serve.sync import LabelStudioClient


def serve_cli(
    model: Annotated[str, typer.Argument(help="Trained pipeline to serve")],
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only)")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port; Label Studio's backend URL is http://HOST:PORT")
    ] = 9090,
    work_dir: Annotated[
        Path,
        typer.Option(
            help="Where the projects' annotations and the served versions are kept (a restart resumes from it)"
        ),
    ] = Path("serve"),
    user: Annotated[
        Optional[str],
        typer.Option(
            envvar="AUTOLABEL_SERVE_USER",
            help="Require basic auth with this user; connect Label Studio as http://USER:PASSWORD@HOST:PORT",
        ),
    ] = None,
    password: Annotated[
        Optional[str],
        typer.Option(envvar="AUTOLABEL_SERVE_PASSWORD", help="The basic-auth password (set it in the environment)"),
    ] = None,
    token: Annotated[
        Optional[str],
        typer.Option(
            envvar="AUTOLABEL_SERVE_TOKEN",
            help="Also accept 'Authorization: Token <token>', for clients other than Label Studio",
        ),
    ] = None,
    label_studio: Annotated[
        Optional[str],
        typer.Option(
            help="Label Studio's URL: catch up, from each project's export, what was done while no webhook reached the "
            "backend "
            "(at start and before each update; the API key in LABEL_STUDIO_API_KEY)"
        ),
    ] = None,
    label_studio_api_key: Annotated[
        Optional[str],
        typer.Option(
            envvar="LABEL_STUDIO_API_KEY",
            help="Label Studio API key or personal access token (set it in the environment)",
        ),
    ] = None,
    max_body_mb: Annotated[float, typer.Option(min=0.001, help="Largest request body accepted, in MB")] = 10.0,
    threads: Annotated[int, typer.Option(min=1, help="Requests served at once")] = 4,
    retrain_every: Annotated[
        int, typer.Option(min=0, help="Update the model in the background after every N new annotations (0: never)")
    ] = 0,
    held_out_every: Annotated[
        int, typer.Option(min=2, help="Hold out every Nth annotation to compare the updated model with the served one")
    ] = 5,
    min_held_out: Annotated[
        int,
        typer.Option(
            min=1, help="Held-out annotations an update needs before it can be called no worse than the served model"
        ),
    ] = 10,
    update_epochs: Annotated[int, typer.Option(min=1, help="Epochs of each update over the annotations")] = 5,
    active_learning: Annotated[
        Optional[Literal["least_confidence", "margin", "entropy"]],
        typer.Option(
            help="Score each task by select's uncertainty (least_confidence, margin or entropy) as "
            "1/(1 + uncertainty), so sorting by prediction score puts the most informative task first",
        ),
    ] = None,
) -> None:
    """Serve a pipeline to Label Studio (Settings > Model > Connect model, URL http://HOST:PORT):
    predictions with scores for its tasks, and the annotations it sends back kept in --work-dir."""
    if bool(user) != bool(password):
        raise typer.BadParameter("--user and --password go together")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if label_studio and not label_studio_api_key:
        raise typer.BadParameter(
            "--label-studio needs an API key: set LABEL_STUDIO_API_KEY (Label Studio: Account & Settings > Access "
            "Token)"
        )
    client = LabelStudioClient(label_studio, label_studio_api_key) if label_studio else None
    backend = Backend(
        model, work_dir, retrain_every, held_out_every, update_epochs, active_learning, min_held_out, client
    )
    max_body = int(max_body_mb * 2**20)
    app = create_app(backend, Credentials(user, password, token), max_body)
    typer.echo(
        f"serving {model} ({backend.model_version}) on http://{host}:{port}; annotations -> {work_dir}", err=True
    )
    serve(app, host=host, port=port, threads=threads, max_request_body_size=max_body, ident="autolabel")

"""``autolabel audit``: rank probable label errors of a labelled corpus."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def audit_cli(
    data: Annotated[Path, typer.Argument(help="Labelled corpus in any readable format")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Issues, ranked, as JSON lines")],
    config: Annotated[
        Optional[Path], typer.Option(help="Training config for the fold models (default: the shipped crf_fast.cfg)")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=2, help="Cross-validation folds")] = 5,
    epochs: Annotated[int, typer.Option(min=1, help="Training epochs per fold")] = 5,
    data_format: Annotated[Optional[str], typer.Option("--format", help="Format of the data")] = None,
    lang: Annotated[str, typer.Option(help="spaCy language")] = "en",
    top: Annotated[int, typer.Option(min=0, help="Issues to print")] = 20,
) -> None:
    """k-fold cross-validated crf_ner posteriors vs the given labels (confident learning)."""
    import srsly

    from ..configs import config_path
    from ..files import atomic_path, check_output
    from ..formats import read_docs
    from ..formats.records import META_KEY
    from ..loading import blank
    from ..workflow.audit import audit

    check_output(output)  # before training every fold
    config = config_path(config)
    docs = list(read_docs(data, blank(lang), data_format))
    ids = [str((d.user_data.get(META_KEY) or {}).get("id", i)) for i, d in enumerate(docs)]
    overrides = {"training.max_epochs": epochs, "training.max_steps": 0, "nlp.lang": lang}
    issues = audit(docs, config, k, overrides, record_ids=ids)
    with atomic_path(output) as tmp:
        srsly.write_jsonl(tmp, (issue.to_dict() for issue in issues))
    flagged = sum(issue.flagged for issue in issues)
    typer.echo(f"{len(issues)} spans judged, {flagged} flagged -> {output}")
    for issue in issues[:top]:
        typer.echo(f"{issue.score:.2f}\t{issue.kind}\tdoc {issue.record}\t{issue.text!r} {issue.label}\t{issue.reason}")

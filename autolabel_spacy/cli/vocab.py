"""``autolabel vocab build``: a term list from an annotated corpus."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

from .errors import probability

app = typer.Typer(no_args_is_help=True, help="Build vocabularies (term -> label) for domain_vocab and plugins.")


def build(
    input_path: Path,
    output_path: Path,
    lang: str = "en",
    input_format: Optional[str] = None,
    attr: str = "LOWER",
    min_count: int = 1,
    min_precision: float = 0.5,
    folds: int = 0,
    domain: Optional[str] = None,
):
    from ..files import atomic_path, check_output
    from ..formats import read_docs
    from ..loading import blank
    from ..vocab_builder import build_vocabulary

    if folds == 1:
        raise ValueError("folds must be 0 (none) or at least 2")
    check_output(output_path)
    nlp = blank(lang)
    docs = read_docs(input_path, nlp, input_format)
    vocab = build_vocabulary(
        docs, nlp.make_doc, output_path.stem, input_path.name, attr=attr, min_count=min_count, min_precision=min_precision,
        folds=folds,
    )
    if domain:
        check_domain_labels(vocab, domain)
    with atomic_path(output_path) as tmp:
        vocab.to_tsv(tmp)
    return vocab


def check_domain_labels(vocab, domain: str) -> None:
    """A vocabulary meant for a domain may only use that domain's labels."""
    from ..hooks.manager import get_domain

    labels = set(get_domain(domain).label_names)
    unknown = sorted(set(vocab.terms.values()) - labels)
    if unknown:
        raise ValueError(f"the corpus has labels {unknown} that domain {domain!r} does not define (its labels: {sorted(labels)})")


@app.command("build")
def build_cli(
    input_path: Annotated[Path, typer.Argument(help="Annotated corpus (any readable format)")],
    output_path: Annotated[Path, typer.Argument(help="Output term<TAB>label file")],
    lang: Annotated[str, typer.Option(help="spaCy language code")] = "en",
    input_format: Annotated[Optional[str], typer.Option("--from", help="Input format (default: from extension)")] = None,
    attr: Annotated[Literal["LOWER", "ORTH"], typer.Option(help="LOWER (case-insensitive) or ORTH")] = "LOWER",
    min_count: Annotated[int, typer.Option(min=1, help="Keep terms annotated at least this often")] = 1,
    min_precision: Annotated[
        float, typer.Option(parser=probability, help="Keep terms annotated in at least this share of their occurrences")
    ] = 0.5,
    folds: Annotated[
        int, typer.Option(min=0, help="Record K (0 or at least 2) cross-validation folds per term, for gazetteer features trained on this same corpus")
    ] = 0,
    domain: Annotated[Optional[str], typer.Option(help="Installed domain whose labels the corpus must use ('null': no check)")] = None,
) -> None:
    """Build a vocabulary from a corpus's annotated entities."""
    vocab = build(
        input_path, output_path, lang, input_format, attr, min_count, min_precision, folds,
        None if domain in (None, "", "null") else domain,
    )
    typer.echo(f"{output_path}: {len(vocab.terms)} terms; {vocab.provenance}")

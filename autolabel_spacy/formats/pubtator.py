"""PubTator: whole abstracts with typed, concept-linked mentions and relations.

One block per document, blocks separated by an empty line::

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>type<TAB>concept id[<TAB>parts of a composite]
    PMID<TAB>relation<TAB>concept id<TAB>concept id

Offsets are character offsets into ``title + " " + abstract``. A block
becomes one Doc of that text: mentions are its entities (``label_`` the type,
or ``label_map[type]``; ``kb_id_`` the concept id), the title is its first
sentence and the abstract's sentences follow (see :func:`mark_sentences`),
and the block's PMID, title length and composite parts are kept in
``doc.user_data["pubtator"]`` and in its metadata (which every format
with metadata carries, so that the block comes back from any of them),
and its relation lines are the doc's relations
(``autolabel_spacy/relations.py``), so that writing the doc gives the block
back. A block with a malformed line, an offset past the text, a
mention whose text is not the text at its offsets, an unknown type or a
relation naming an id no mention has is an error of that block, with the
line and the reason.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator, Optional

from spacy.pipeline import Sentencizer
from spacy.tokens import Doc

from ..relations import NO_ID, TEXT_KEY, Relation, get_relations, mention_keys, set_relations
from .records import META_KEY, Record, RecordError, make_doc, open_for_write

PUBTATOR_KEY = "pubtator"  # doc.user_data: {"pmid", "title_length", "composites"}
FLAT = {ord(c): " " for c in "\t\r\n"}
SENTENCIZER = Sentencizer()  # rule-based: ".", "?", "!" and their kin end a sentence


def read_pubtator_records(
    path, nlp, align: str = "strict", labels: Optional[Iterable[str]] = None, label_map: Optional[dict] = None
) -> Iterator[Record]:
    """One record per block: its doc, or the reason it cannot be read.
    ``label_map`` maps mention types to labels (``{"SpecificDisease":
    "Disease", ...}``; a type it does not name keeps its name); ``labels``,
    when given, are the labels allowed after the mapping."""
    for where, lines, raw in blocks(path):
        try:
            yield Record(where, doc=_block_doc(nlp, lines, where, align, labels, label_map or {}), raw=raw)
        except RecordError as err:  # where: the line at fault, or the block's first line
            yield Record(err.where, error=err.reason, raw=raw)


def write_pubtator(docs: Iterable[Doc], path) -> None:
    """Each doc as a block: the title and abstract of a doc read from
    PubTator, else its text split at the space before its second sentence
    (or its first space); its entities with their ``kb_id_`` (``-1`` when
    none); the relations it was read with. Tabs and line breaks, which
    PubTator cannot hold, are written as spaces (offsets unchanged)."""
    with open(open_for_write(path), "w", encoding="utf-8") as out:
        for i, doc in enumerate(docs):
            out.write(("\n" if i else "") + _block_text(doc, i))  # blocks apart by an empty line


def pubtator_refuses(doc: Doc) -> Optional[str]:
    """Why a doc cannot be a block without losing a relation: PubTator
    names a relation's entities by concept id, so a relation of an entity
    keyed by its text (a mention without one) has no line. None: it can."""
    ids = {key for ent in doc.ents for key in mention_keys(ent) if not key.startswith(TEXT_KEY)}
    for r in get_relations(doc):
        unnamed = [key for key in (r.head, r.child) if key not in ids]
        if unnamed:
            return (
                f"relation {r.label} {r.head!r} -> {r.child!r} names {unnamed[0]!r}, an entity without a concept id, "
                "which PubTator cannot write"
            )
    return None


def blocks(path) -> Iterator[tuple[str, list[tuple[int, str]], str]]:
    """(where, [(line number, line)], raw text) of each block. Bytes that are
    not UTF-8 are kept as lone surrogates, for :func:`block_head` to report
    with their line."""
    lines: list[tuple[int, str]] = []
    raw = Path(path).read_bytes()
    text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    for lineno, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if line.strip():
            lines.append((lineno, line))
            continue
        if lines:
            yield f"{path}:{lines[0][0]}", lines, "\n".join(line for _, line in lines)
            lines = []
    if lines:
        yield f"{path}:{lines[0][0]}", lines, "\n".join(line for _, line in lines)


def block_head(lines, where: str) -> tuple[str, str, str]:
    """``(pmid, title, text)`` of a block from its first two lines; the text
    is ``title + " " + abstract``, the offsets' text."""
    path = where.rsplit(":", 1)[0]
    for lineno, line in lines:
        try:
            line.encode("utf-8")
        except UnicodeEncodeError as err:
            raise RecordError(
                f"{path}:{lineno}", f"not valid UTF-8 (byte {ord(line[err.start]) - 0xDC00:#04x})"
            ) from None
    head = {}
    for lineno, line in lines[:2]:
        parts = line.split("|", 2)
        if len(parts) != 3 or parts[1] not in ("t", "a"):
            raise RecordError(f"{path}:{lineno}", "expected a 'PMID|t|title' line and a 'PMID|a|abstract' line first")
        head[parts[1]] = (parts[0], parts[2])
    if set(head) != {"t", "a"} or head["t"][0] != head["a"][0]:
        raise RecordError(where, "a block needs one 'PMID|t|title' and one 'PMID|a|abstract' line of the same PMID")
    pmid, title = head["t"]
    return pmid, title, f"{title} {head['a'][1]}"


def _block_doc(nlp, lines, where: str, align: str, labels, label_map: dict) -> Doc:
    path = where.rsplit(":", 1)[0]
    pmid, title, text = block_head(lines, where)
    mentions, relations, composites = [], [], {}
    for lineno, line in lines[2:]:
        at = f"{path}:{lineno}"
        fields = line.split("\t")
        if fields[0] != pmid:
            raise RecordError(at, f"line of PMID {fields[0]!r} inside the block of PMID {pmid!r}")
        if len(fields) == 4 and not fields[1].isdigit():
            relations.append(fields[1:])
            continue
        if len(fields) not in (6, 7) or not (fields[1].isdigit() and fields[2].isdigit()):
            raise RecordError(
                at, "expected 'PMID<TAB>start<TAB>end<TAB>text<TAB>type<TAB>id' or 'PMID<TAB>relation<TAB>id<TAB>id'"
            )
        start, end, mention, kind, kb_id = int(fields[1]), int(fields[2]), fields[3], fields[4], fields[5]
        if not start < end <= len(text):
            raise RecordError(at, f"offsets [{start}:{end}] are past the text of {len(text)} characters")
        if text[start:end] != mention:
            raise RecordError(at, f"mention {mention!r} is not the text at [{start}:{end}], {text[start:end]!r}")
        if not kind:
            raise RecordError(at, "the mention has no type")
        mentions.append((start, end, label_map.get(kind, kind), kb_id or NO_ID, lineno))
        if len(fields) == 7:
            composites[f"{start}:{end}"] = fields[6]
    ids = {part for *_, kb_id, _ in mentions for part in _id_parts(kb_id)}
    for kind, *args in relations:
        unknown = [a for a in args if a not in ids]
        if unknown:
            raise RecordError(where, f"relation {kind} names {unknown}, which no mention of the block has")
    try:
        # each mention keeps its concept id through make_doc, also when --align snaps it to tokens (and so its
        # relations)
        doc = make_doc(
            nlp, text, [(s, e, label, kb_id) for s, e, label, kb_id, _ in mentions], where, align=align, labels=labels
        )
    except RecordError as err:  # "span i ...": the line of mention i
        found = re.match(r"span (\d+) ", err.reason)
        if found is None:
            raise
        raise RecordError(
            f"{path}:{mentions[int(found.group(1))][4]}", "mention " + err.reason[found.end() :]
        ) from None
    if align != "strict" and composites:  # a snapped mention keeps its composite names under its new offsets
        snapped = {}
        for key, names in composites.items():
            start, end = (int(v) for v in key.split(":"))
            span = doc.char_span(start, end, alignment_mode=align)
            snapped[f"{span.start_char}:{span.end_char}" if span is not None else key] = names
        composites = snapped
    mark_sentences(doc, len(title))
    doc.user_data[PUBTATOR_KEY] = {"pmid": pmid, "title_length": len(title), "composites": composites}
    set_relations(doc, [Relation(head, child, kind) for kind, head, child in relations])
    # the metadata every format with metadata carries: the title boundary and composite names come back with the block
    doc.user_data[META_KEY] = {
        "id": pmid,
        "title_length": len(title),
        **({"composites": composites} if composites else {}),
    }
    return doc


def mark_sentences(doc: Doc, title_length: int) -> None:
    """Sentence boundaries of an abstract: the title is the first sentence,
    the abstract is split by spaCy's rule-based sentencizer, and no mention
    is cut by a boundary."""
    SENTENCIZER(doc)
    for token in doc:
        if token.idx == title_length + 1:
            token.is_sent_start = True
        elif token.i and token.idx <= title_length:
            token.is_sent_start = False
    for ent in doc.ents:
        for token in ent[1:]:
            token.is_sent_start = False


def _flat(text: str) -> str:
    """Tabs and line breaks, which PubTator lines cannot hold, as spaces
    (one character for one, so every offset stays right)."""
    return text.translate(FLAT)


def _title_end(doc: Doc) -> Optional[int]:
    """Where a doc read from another format splits into title and abstract
    so that ``title + " " + abstract`` is its text: the space before its
    second sentence, else its first space (None: it has none)."""
    if doc.has_annotation("SENT_START"):
        for sent in list(doc.sents)[1:]:
            if sent.start_char > 0 and doc.text[sent.start_char - 1] == " ":
                return sent.start_char - 1
    return doc.text.index(" ") if " " in doc.text else None


def _id_parts(kb_id: str) -> list[str]:
    """The ids of a composite mention's ``A|B`` or ``A+B``, and the whole."""
    return [kb_id, *kb_id.replace("+", "|").split("|")]


def _block_text(doc: Doc, index: int) -> str:
    info = doc.user_data.get(PUBTATOR_KEY) or {}
    meta = doc.user_data.get(META_KEY) or {}
    pmid = str(info.get("pmid") or meta.get("id") or index)
    if not pmid.strip() or any(c in pmid for c in "|\t\r\n"):
        pmid = str(index)
    split = info.get("title_length", meta.get("title_length"))  # meta: a doc annotated from PubTator input
    if not (isinstance(split, int) and 0 <= split < len(doc.text) and doc.text[split] == " "):
        split = _title_end(doc)
    if split is None:  # no space to join title and abstract at: the text gains one at its end
        title, abstract = doc.text, ""
    else:
        title, abstract = doc.text[:split], doc.text[split + 1 :]
    lines = [f"{pmid}|t|{_flat(title)}", f"{pmid}|a|{_flat(abstract)}"]
    composites = info.get("composites") or meta.get("composites")
    composites = composites if isinstance(composites, dict) else {}
    for ent in doc.ents:
        fields = [
            pmid,
            str(ent.start_char),
            str(ent.end_char),
            _flat(ent.text),
            _flat(ent.label_),
            _flat(ent.kb_id_) or NO_ID,
        ]
        names = composites.get(f"{ent.start_char}:{ent.end_char}")
        if isinstance(names, str) and names:
            fields.append(_flat(names))
        lines.append("\t".join(fields))
    ids = {key for ent in doc.ents for key in mention_keys(ent) if not key.startswith(TEXT_KEY)}
    # PubTator names a relation's entities by concept id: relations between
    # entities grouped by their text only have no line
    lines += [
        "\t".join([pmid, *map(_flat, (r.label, r.head, r.child))])
        for r in get_relations(doc)
        if r.head in ids and r.child in ids
    ]
    return "\n".join(lines) + "\n"

"""The versions a backend has served, kept in ``WORK_DIR/models``.

Every model the backend serves is a numbered version on disk: ``v1`` is a
copy of the pipeline ``serve`` was started with, and each update adopted
is the next number. A version's ``meta.json`` carries its own name
(``<version>+vK``), so it loads with the name Label Studio stored with its
predictions. ``versions.json`` lists them with what made them; numbers
only grow and are never given to another model. A restart serves the
latest adopted version again; a pipeline the work folder has not seen
(another model trained meanwhile) becomes the next version. Every update,
adopted or not, is a line of ``updates.jsonl``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Optional

from ..files import atomic_write_text, fingerprint, json_lines


def versioned(meta: dict, number: int) -> tuple[str, str]:
    """(meta version, model version) of version ``number`` of a pipeline
    whose meta is ``meta``: ``0.0.0+v3`` and ``<name>-0.0.0+v3``."""
    base = str(meta.get("version") or "0.0.0").split("+", 1)[0]
    version = f"{base}+v{number}"
    return version, f"{meta.get('name') or 'pipeline'}-{version}"


class ModelVersions:
    def __init__(self, work_dir) -> None:
        self.dir = Path(work_dir) / "models"
        self.path = self.dir / "versions.json"
        self.updates_path = self.dir / "updates.jsonl"
        self.entries: list[dict] = []
        self.serving: Optional[int] = None
        if self.path.exists():
            state = json.loads(self.path.read_text(encoding="utf-8"))
            self.entries, self.serving = state["versions"], state["serving"]

    @property
    def next_number(self) -> int:
        return max((e["number"] for e in self.entries), default=0) + 1

    def entry(self, number: int) -> dict:
        return next(e for e in self.entries if e["number"] == number)

    def folder(self, number: int) -> Path:
        return self.dir / self.entry(number)["path"]

    def start(self, model) -> tuple[dict, str]:
        """The version to serve for ``serve MODEL``, and a line saying why."""
        given = fingerprint(model)
        if self.entries:
            known = next((e for e in self.entries if given in (e["fingerprint"], e.get("source_fingerprint"))), None)
            if known is not None:
                latest = self.entry(self.serving)
                return (
                    latest,
                    f"resuming {latest['model_version']}, the latest version adopted in {self.dir} ({model} is "
                    f"v{known['number']})",
                )
        entry = self._add_folder(model, given, source=str(model))
        how = "new to this work folder" if len(self.entries) > 1 else "the first version"
        return entry, f"serving {model} as {entry['model_version']} ({how})"

    def _add_folder(self, model, source_fingerprint: str, source: str) -> dict:
        number = self.next_number
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.dir / f"v{number}"
        partial = self.dir / f".v{number}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(model, partial)
        meta_path = partial / "meta.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        meta["version"], model_version = versioned(meta, number)
        meta_path.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return self._record(partial, target, number, model_version, source, source_fingerprint)

    def add(self, nlp, update: dict) -> dict:
        """Save an adopted update as the next version and serve it."""
        number = self.next_number
        nlp.meta["version"], model_version = versioned(nlp.meta, number)
        self.dir.mkdir(parents=True, exist_ok=True)
        target = self.dir / f"v{number}"
        partial = self.dir / f".v{number}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        nlp.to_disk(partial)
        return self._record(partial, target, number, model_version, f"update of v{self.serving}", None, update)

    def _record(
        self,
        partial: Path,
        target: Path,
        number: int,
        model_version: str,
        source: str,
        source_fingerprint: Optional[str],
        update: Optional[dict] = None,
    ) -> dict:
        if (
            target.exists()
        ):  # a folder no version lists (a crash before versions.json was written): set aside, never reused
            target.rename(self.dir / f".v{number}.orphan-{int(time.time())}")
        partial.rename(target)
        entry = {
            "number": number,
            "model_version": model_version,
            "path": target.name,
            "fingerprint": fingerprint(target),
            "source": source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        if source_fingerprint:
            entry["source_fingerprint"] = source_fingerprint
        if update is not None:
            entry["update"] = update
        self.entries.append(entry)
        self.serving = number
        self._save()
        return entry

    def log_update(self, update: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.updates_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(update, ensure_ascii=False) + "\n")

    def last_update(self) -> Optional[dict]:
        if not self.updates_path.exists():
            return None
        lines = [line for line in json_lines(self.updates_path.read_text(encoding="utf-8")) if line.strip()]
        return json.loads(lines[-1]) if lines else None

    def _save(self) -> None:
        atomic_write_text(self.path, json.dumps({"serving": self.serving, "versions": self.entries}, indent=1) + "\n")

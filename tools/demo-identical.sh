#!/usr/bin/env bash
# Does a change keep every figure of `make demo`? Runs the demo workflow at two
# revisions (each in a clone under a temporary folder, with this checkout's
# .venv and the clone's package first on the path) and compares their outputs:
# corpus/, training/, review/ and metrics/, file by file. Reports (metrics/*.json)
# are compared by content without their "made" time (their layout may differ
# between versions: pass a normalising Python expression of `r` as $3), pages
# (metrics/*.html) without that time and matplotlib's random SVG ids.
# usage: tools/demo-identical.sh REV_A REV_B [NORMALISE]
set -euo pipefail
a=${1:?REV_A}; b=${2:?REV_B}; normalise=${3:-r}
root=$(cd "$(dirname "$0")/.." && pwd)
py=$root/.venv/bin/python
work=$(mktemp -d)
for rev in "$a" "$b"; do
  git clone -q "$root" "$work/$rev" && git -C "$work/$rev" checkout -q "$rev"
  (cd "$work/$rev" && PYTHONPATH="$work/$rev" PATH="$root/.venv/bin:$PATH" PYTHONDONTWRITEBYTECODE=1 \
     "$py" -m spacy project run demo . > "$work/$rev.log" 2>&1) || { echo "demo failed at $rev: $work/$rev.log"; exit 1; }
done
"$py" - "$work/$a" "$work/$b" "$normalise" <<'PY'
import hashlib, json, re, sys
from pathlib import Path
a, b, normalise = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
def files(root):
    return sorted(p.relative_to(root) for d in ("corpus", "training", "review", "metrics") for p in (root / d).rglob("*") if p.is_file())
def report(path, norm):
    r = json.loads(path.read_text())
    r = eval(norm, {"r": r}) if norm else r
    r.get("stamp", {}).pop("made", None)
    return r
def page(path):
    return re.sub(r'([#"])[pm][0-9a-f]{10}', r"\1X", re.sub(r"made: [^<·]*", "", path.read_text()))
fa, fb = files(a), files(b)
if fa != fb:
    sys.exit(f"different files: {sorted(set(map(str, fa)) ^ set(map(str, fb)))}")
same = kept = differ = 0
for rel in fa:
    x, y = a / rel, b / rel
    if hashlib.sha256(x.read_bytes()).digest() == hashlib.sha256(y.read_bytes()).digest():
        same += 1
    elif rel.suffix == ".json" and rel.parts[0] == "metrics" and report(x, "r") == report(y, normalise):
        kept += 1
    elif rel.suffix == ".html" and rel.parts[0] == "metrics" and page(x) == page(y):
        kept += 1
    else:
        differ += 1
        print(f"differs: {rel}")
print(f"{len(fa)} files: {same} byte-identical, {kept} reports and pages of the same content, {differ} different")
sys.exit(1 if differ else 0)
PY
rm -rf "$work"  # kept, with the demo logs, when anything differs

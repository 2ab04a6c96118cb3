#!/usr/bin/env bash
# The schema evolution gate: schemas/events.fbs must be an evolution of every released schema
# (fields only appended, never removed or reordered; union variants only appended). To prove the
# gate bites, a copy with two fields swapped must be refused.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for released in "$root"/schemas/released/*.fbs; do
  flatc --conform "$released" "$root/schemas/events.fbs"
  echo "conforms to $(basename "$released")"
done
python3 - "$root/schemas/events.fbs" "$work/bad.fbs" <<'PY'
import sys
s = open(sys.argv[1]).read()
swapped = s.replace("  stream: string;\n  stream_version: ulong;", "  stream_version: ulong;\n  stream: string;")
assert swapped != s, "the envelope changed: update this test's mutation"
open(sys.argv[2], "w").write(swapped)
PY
if flatc --conform "$root/schemas/events.fbs" "$work/bad.fbs" 2>/dev/null; then
  echo "the gate let a reordered schema through" >&2
  exit 1
fi
echo "a reordered schema is refused"

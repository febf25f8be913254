#!/usr/bin/env bash
# Rewrites the README's option table (between the options:begin and options:end markers) from
# the option table in src/train/config.cpp, via `initscope options --markdown`.
# Config.ReadmeOptionTableIsGenerated fails until this has been run after an option changes.
#   scripts/readme-options.sh [path/to/initscope]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/initscope}
table=$("$bin" options --markdown)
python3 - "$table" <<'PY'
import re, sys
table = sys.argv[1] + "\n"
text = open("README.md").read()
begin = "<!-- options:begin (initscope options --markdown) -->\n"
end = "<!-- options:end -->"
b, e = text.index(begin) + len(begin), text.index(end)
open("README.md", "w").write(text[:b] + table + text[e:])
PY

#!/usr/bin/env bash
# The committed C is formatted as .clang-format says: `make format` on a clean tree
# changes nothing. Reports the files that differ (run `make format` to fix them).
set -u
cd "$(dirname "$0")/../.."
if ! command -v clang-format >/dev/null; then
  echo "FAIL: clang-format is installed (scripts/install-deps.sh installs it)"; exit 1
fi
files=$(git ls-files '*.c' '*.h')
bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -z "$bad" ]; then
  echo "PASS: $(echo "$files" | wc -l) C files formatted as .clang-format says ($(clang-format --version | grep -o 'version [0-9.]*'))"
else
  echo "FAIL: not formatted (make format): $(echo $bad)"
fi
# the check can fail: a file with its indentation broken is reported
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp .clang-format "$tmp/"; printf 'int f(void)\n{\n  return 1;\n}\n' > "$tmp/x.c"
if (cd "$tmp" && clang-format --dry-run -Werror x.c >/dev/null 2>&1); then
  echo "FAIL: a misformatted file is reported"
else
  echo "PASS: a misformatted file is reported"
fi
[ -z "$bad" ]

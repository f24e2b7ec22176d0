#!/usr/bin/env bash
# The man pages as a user reads them: they render without warnings, `make install`
# puts them where `man` finds them, and they cannot drift from the programs: every
# subcommand of `choreoscope --help`, every flag of each subcommand's --help and of
# choreoscope-tui --help, and every key of docs/tui.md's key table appear in them.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
source tests/e2e/lib/common.sh
render() { LC_ALL=C.UTF-8 MANWIDTH=200 man --warnings -l "$1" 2> "$tmp/warn" | col -b; }

for p in choreoscope choreoscope-tui; do
  render docs/man/$p.1 > "$tmp/$p.txt"
  check_eq "$p.1 renders without warnings" "$(cat "$tmp/warn")" ""
  check_eq "$p.1 has NAME, SYNOPSIS, DESCRIPTION, SEE ALSO" \
    "$(grep -cE '^(NAME|SYNOPSIS|DESCRIPTION|SEE ALSO)$' "$tmp/$p.txt")" "4"
done

# flags named by a --help text that the page does not mention
missing_flags() {   # $1 page text, stdin: help text
  grep -oE -- '(^|[ ,[])--?[a-z][a-z-]*' | sed 's/^[ ,[]//' | sort -u |
    while read -r f; do grep -qF -- "$f" "$1" || printf '%s ' "$f"; done
}
C=bin/choreoscope
check_eq "choreoscope --help: every flag in the page" \
  "$($C --help | missing_flags "$tmp/choreoscope.txt")" ""
check_eq "the collector's --help: every flag in the page" \
  "$($C --config /dev/null --help | missing_flags "$tmp/choreoscope.txt")" ""
for sub in replay gen-dashboards discover history; do
  check_eq "choreoscope $sub: a section of the page" "$(grep -c "^   $sub\$" "$tmp/choreoscope.txt")" "1"
  check_eq "choreoscope $sub --help: every flag in the page" \
    "$($C $sub --help | missing_flags "$tmp/choreoscope.txt")" ""
done
check_eq "choreoscope-tui --help: every flag in the page" \
  "$(bin/choreoscope-tui --help | missing_flags "$tmp/choreoscope-tui.txt")" ""
# docs/tui.md's key table: `q`, `?`, F1, Tab, Enter, ... each in KEYS
keys=$(sed -n '/^## Keys/,/^## /p' docs/tui.md | grep '^| ' | grep -v '^| key\|^|---' |
  cut -d'|' -f2 | tr ',' '\n' | sed 's/`//g; s/^ *//; s/ *$//' | tr ' ' '\n' | grep -v '^$')
miss=""
sed -n '/^KEYS$/,/^ENVIRONMENT$/p' "$tmp/choreoscope-tui.txt" > "$tmp/keys.txt"
for k in $keys; do
  for part in $(echo "$k" | tr '/' ' '); do grep -qF -- "$part" "$tmp/keys.txt" || miss="$miss $part"; done
done
check_eq "every key of docs/tui.md in choreoscope-tui(1) KEYS ($(echo $keys | wc -w) keys)" "$miss" ""
# the exit codes replay documents in its header are the page's
check_eq "EXIT STATUS lists 0 1 2 3" "$(sed -n '/^EXIT STATUS$/,/^ENVIRONMENT$/p' "$tmp/choreoscope.txt" | grep -cE '^       [0-3] ')" "4"

make -s install PREFIX="$tmp/usr" > "$tmp/inst" 2>&1
check_eq "make install PREFIX=...: exit 0" "$?" "0"
check_eq "make install: programs and pages" \
  "$(cd "$tmp/usr" && ls bin/choreoscope bin/choreoscope-tui share/man/man1/choreoscope.1 share/man/man1/choreoscope-tui.1 2>&1 | sort | tr '\n' ' ')" \
  "bin/choreoscope bin/choreoscope-tui share/man/man1/choreoscope-tui.1 share/man/man1/choreoscope.1 "
check_eq "man finds the installed page by name" \
  "$(MANPATH="$tmp/usr/share/man" MANWIDTH=80 man choreoscope 2>/dev/null | col -b | grep -c 'choreoscope replay')" "$(grep -c 'choreoscope replay' <(MANWIDTH=80 man -l docs/man/choreoscope.1 2>/dev/null | col -b))"
[ $fails -eq 0 ]

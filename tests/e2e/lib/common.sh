# Helpers every end-to-end script shares (sourced; not a test). Sets fails=0.
#   check DESCRIPTION COMMAND...   one "PASS: ..." or "FAIL: ..." line (tests/run.sh
#                                  counts them); $CHECK_PREFIX goes before the text
#   wait_file FILE [TENTHS]        until FILE is non-empty (default 5 s)
#   free_port                      a free loopback TCP port
#   check_eq DESCRIPTION GOT WANT  as check, comparing two strings (both shown on failure)
#   say ok|fail DESCRIPTION        a PASS/FAIL line for a result decided before
#   metric_at PORT NAME            the value of NAME (with labels, a prefix) on the
#                                  live /metrics at loopback PORT, summed over lines
#   completed_count FILE           flow records with outcome completed in FILE
fails=0
check() {
  local d=$1; shift
  if "$@"; then echo "PASS: ${CHECK_PREFIX:-}$d"; else echo "FAIL: ${CHECK_PREFIX:-}$d"; fails=$((fails + 1)); fi
}
wait_file() { for _ in $(seq "${2:-50}"); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
check_eq() {
  if [ "$2" = "$3" ]; then echo "PASS: ${CHECK_PREFIX:-}$1"; else
    echo "FAIL: ${CHECK_PREFIX:-}$1"; echo "  want: $3"; echo "  got:  $2"; fails=$((fails + 1)); fi
}
say() { if [ "$1" = ok ]; then echo "PASS: ${CHECK_PREFIX:-}$2"; else echo "FAIL: ${CHECK_PREFIX:-}$2"; fails=$((fails + 1)); fi; }
metric_at() {
  curl -s -m 2 "http://127.0.0.1:$1/metrics" | awk -v k="$2" 'index($0,k)==1 {s+=$NF} END {print s+0}'
}
completed_count() { grep -c '"record":"flow".*"outcome":"completed"' "$1"; }

# Helpers every end-to-end script shares (sourced; not a test). Sets fails=0.
#   check DESCRIPTION COMMAND...   one "PASS: ..." or "FAIL: ..." line (tests/run.sh
#                                  counts them); $CHECK_PREFIX goes before the text
#   wait_file FILE [TENTHS]        until FILE is non-empty (default 5 s)
#   free_port                      a free loopback TCP port
fails=0
check() {
  local d=$1; shift
  if "$@"; then echo "PASS: ${CHECK_PREFIX:-}$d"; else echo "FAIL: ${CHECK_PREFIX:-}$d"; fails=$((fails + 1)); fi
}
wait_file() { for _ in $(seq "${2:-50}"); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

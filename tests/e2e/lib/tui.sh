# Helpers shared by tests/e2e/tui_*.sh (sourced; the runner only runs tests/e2e/*.sh
# files, and this one defines functions only).
# A private tmux server (-S socket in the test's temp dir) keeps tests apart from any
# tmux the user runs.

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CHECK_PREFIX="tui "

tui_setup() {
  tmp=$(mktemp -d)
  pids=()
  fails=0
  TMUX_SOCK="$tmp/tmux.sock"
  trap tui_cleanup EXIT
}

# Stops what the test started, newest first (producers before the broker they flush
# to), each with SIGTERM and, after 5 s, SIGKILL.
tui_cleanup() {
  tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
  local i p
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    p=${pids[i]}
    kill "$p" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$tmp"
}

t() { tmux -S "$TMUX_SOCK" "$@"; }



# tui_start NAME COLS ROWS ENV... -- ARGS...: the TUI in a detached tmux session.
tui_start() {
  local name=$1 cols=$2 rows=$3; shift 3
  local envs=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
  [ "${1:-}" = "--" ] && shift
  args=("$@")
  t new-session -d -s "$name" -x "$cols" -y "$rows" \
    "env ${envs[*]} $PWD/bin/choreoscope-tui ${args[*]}; sleep 30"
}

screen() { t capture-pane -p -t "$1"; }

# wait_screen NAME REGEX [SECONDS]: until the pane shows a line matching REGEX.
wait_screen() {
  local i n=$(( ${3:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    screen "$1" | grep -Eq -- "$2" && return 0
    sleep 0.1
  done
  echo "--- screen of $1 (waited for /$2/):"; screen "$1"
  return 1
}

# no_screen NAME REGEX: the pane shows no line matching REGEX.
no_screen() { ! screen "$1" | grep -Eq -- "$2"; }

# tui_pid NAME: pid of the choreoscope-tui in the session's pane.
tui_pid() {
  local shell_pid
  shell_pid=$(t display-message -p -t "$1" '#{pane_pid}')
  pgrep -P "$shell_pid" -f choreoscope-tui | head -1
}

# fits NAME COLS ROWS: every line at most COLS columns, exactly ROWS lines, no
# replacement characters or stray escape bytes: the screen has no garbage.
fits() {
  local out
  out=$(screen "$1")
  [ "$(printf '%s\n' "$out" | wc -l)" -eq "$3" ] || return 1
  local LC_ALL=C.UTF-8 line
  while IFS= read -r line; do [ "${#line}" -le "$2" ] || return 1; done <<<"$out"
  ! printf '%s\n' "$out" | grep -q $'\xEF\xBF\xBD\|\x1b'
}

# wait_gone NAME REGEX [SECONDS]: until no line of the pane matches REGEX.
wait_gone() {
  local i n=$(( ${3:-10} * 10 ))
  for ((i = 0; i < n; i++)); do
    screen "$1" | grep -Eq -- "$2" || return 0
    sleep 0.1
  done
  echo "--- screen of $1 (waited for /$2/ to go):"; screen "$1"
  return 1
}

# colours NAME: the pane uses a foreground or background colour (SGR 30-37, 40-47).
colours() { t capture-pane -e -p -t "$1" | grep -Pq '\x1b\[([0-9]+;)*[34][0-7](;[0-9]+)*m'; }
no_colours() { ! colours "$1"; }

#!/usr/bin/env bash
# CPU of choreoscope-tui at its default refresh, watching a running collector.
#   bench/tui_cpu.sh URL [SECONDS] [VIEW_KEY]
# Starts the TUI in a private tmux (120x40, LANG=C.UTF-8), lets it settle 3 s, presses
# VIEW_KEY (1 overview, default; 2 stalled list), then reads utime+stime of the process
# from /proc/PID/stat before and after SECONDS (default 30) and prints the share of
# one core. The TUI's cost depends on the answers it fetches (summary, bounded pages),
# not on the number of flows the collector holds.
set -eu
cd "$(dirname "$0")/.."
url=$1; secs=${2:-30}; key=${3:-1}
sock=$(mktemp -u /tmp/tui-cpu.XXXXXX)
trap 'tmux -S "$sock" kill-server 2>/dev/null; rm -f "$sock"' EXIT
tmux -S "$sock" new-session -d -s cpu -x 120 -y 40 "LANG=C.UTF-8 exec $PWD/bin/choreoscope-tui --url $url"
sleep 3
tmux -S "$sock" send-keys -t cpu "$key"
sleep 2
pid=$(tmux -S "$sock" display-message -p -t cpu '#{pane_pid}')
tck=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
t0=$(ticks); s0=$(date +%s.%N)
sleep "$secs"
t1=$(ticks); s1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v s0="$s0" -v s1="$s1" -v hz="$tck" -v v="$key" \
  'BEGIN { cpu = (b - a) / hz; wall = s1 - s0;
           printf "view %s: cpu %.2f s over %.1f s wall = %.2f%% of one core\n", v, cpu, wall, 100 * cpu / wall }'
tmux -S "$sock" capture-pane -p -t cpu | head -8

#!/usr/bin/env bash
# Regenerates screenshots/: runs the real corral under tmux (120x40), captures each scene with
# its colours (tmux capture-pane -e) and as plain text, turns the capture into HTML with aha,
# and renders a PNG with headless Chromium. Installs tmux, aha and chromium when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v tmux >/dev/null || need+=(tmux)
command -v aha >/dev/null || need+=(aha)
command -v chromium >/dev/null || need+=(chromium)
command -v curl >/dev/null || need+=(curl)
fc-list 2>/dev/null | grep -qi "dejavu sans mono" || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}"
fi

swift build --product corral
corral="$(swift build --show-bin-path)/corral"
out=screenshots
work=$(mktemp -d)
port=${CORRAL_SCREENSHOT_PORT:-18480}
session="corral-shots-$$"
holder=""
headless=""
cleanup() {
    tmux kill-session -t "$session" 2>/dev/null || true
    tmux kill-session -t "$session-small" 2>/dev/null || true
    tmux kill-session -t "$session-attach" 2>/dev/null || true
    tmux kill-session -t "$session-fail" 2>/dev/null || true
    tmux kill-session -t "$session-programs" 2>/dev/null || true
    [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
    [ -n "$headless" ] && kill "$headless" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# capture SESSION NAME COLUMNS ROWS: writes screenshots/NAME.txt and screenshots/NAME.png
capture() {
    local target=$1 name=$2 columns=$3 rows=$4
    tmux capture-pane -p -t "$target" > "$out/$name.txt"
    tmux capture-pane -e -p -t "$target" > "$work/$name.ansi"
    {
        echo '<!doctype html><html><head><meta charset="utf-8"><style>'
        echo 'body{margin:0;background:#111;color:#ddd}'
        echo 'pre{margin:8px;font:15px/18px "DejaVu Sans Mono",monospace;white-space:pre}'
        echo '</style></head><body><pre>'
        aha --no-header --black < "$work/$name.ansi"
        echo '</pre></body></html>'
    } > "$work/$name.html"
    local width=$((columns * 9 + 16)) height=$((rows * 18 + 16))
    chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size="$width,$height" --screenshot="$out/$name.png" "file://$work/$name.html" \
        >/dev/null 2>&1
    echo "wrote $out/$name.png and $out/$name.txt"
}

# wait_for SESSION TEXT: waits up to 20 s for TEXT on the screen
wait_for() {
    for _ in $(seq 1 200); do
        tmux capture-pane -p -t "$1" | grep -q "$2" && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2'" >&2
    tmux capture-pane -p -t "$1" >&2
    return 1
}

# In colour whatever the tmux server's environment says (NO_COLOR turns colour off).
tmux new-session -d -s "$session" -x 120 -y 40 "env -u NO_COLOR $corral --port $port; sleep 30"
wait_for "$session" "5/5 running"
for _ in 1 2 3 4 5 6; do curl -s "http://127.0.0.1:$port/" >/dev/null; done
sleep 2.2
capture "$session" running 120 40

tmux send-keys -t "$session" "?"
sleep 0.5
capture "$session" help 120 40
tmux send-keys -t "$session" Escape
sleep 0.3

# Search the log: / then the text, Enter; matches highlighted, the count in the log's title.
tmux send-keys -t "$session" "/"
tmux send-keys -t "$session" -l "request 2"
tmux send-keys -t "$session" Enter
sleep 0.5
capture "$session" search 120 40
tmux send-keys -t "$session" Escape

# One process's log alone (l), then its details (d).
tmux send-keys -t "$session" j j l
sleep 0.5
capture "$session" one-log 120 40
tmux send-keys -t "$session" l d
sleep 0.5
capture "$session" detail 120 40
tmux send-keys -t "$session" Escape
sleep 0.3

# Hold a connection open so the SIGINT drain (and the countdown) lasts a few seconds.
python3 -c "import socket,time; s=socket.create_connection(('127.0.0.1',$port)); time.sleep(30)" &
holder=$!
sleep 0.5
tmux send-keys -t "$session" i
sleep 2.5
capture "$session" stopping 120 40
wait_for "$session" "exit status"

tmux new-session -d -s "$session-small" -x 40 -y 10 "env -u NO_COLOR $corral --port $((port + 1)); sleep 30"
sleep 2
capture "$session-small" too-small 40 10
tmux send-keys -t "$session-small" q

# corral attach: the dashboard of a headless corral, from another terminal (q detaches).
"$corral" --no-tui --control "$work/control.sock" -w 3 --extra 'while :; do echo "tick $(date +%T)"; sleep 1; done' \
    -- sh -c 'echo "worker $CORRAL_PROCESS_INDEX serving"; exec sleep 1000' > "$work/headless.log" 2>&1 &
headless=$!
for _ in $(seq 1 100); do [ -S "$work/control.sock" ] && break; sleep 0.1; done
tmux new-session -d -s "$session-attach" -x 120 -y 40 "env -u NO_COLOR $corral attach --socket $work/control.sock; sleep 30"
wait_for "$session-attach" "4/4 running"
sleep 2.2
capture "$session-attach" attached 120 40
tmux send-keys -t "$session-attach" q
kill -TERM "$headless"
wait "$headless" || true
headless=""

# A failure: one worker crash-loops (exit 3 after complaining on stderr) under --restart
# on-failure; its row shows the backoff countdown and its restarts, the log its stderr lines.
tmux new-session -d -s "$session-fail" -x 120 -y 40 \
    "env -u NO_COLOR $corral --no-control -w 3 --restart on-failure --restart-delay 1 -- sh -c 'if [ \$CORRAL_PROCESS_INDEX = 1 ]; then echo \"listening on :8080\"; sleep 1.5; echo \"OSError: [Errno 98] Address already in use\" >&2; exit 3; fi; echo \"worker \$CORRAL_PROCESS_INDEX serving\"; exec sleep 1000'; sleep 30"
wait_for "$session-fail" "attempt 3"
sleep 1
capture "$session-fail" failure 120 40
tmux send-keys -t "$session-fail" q

# A project: corral.toml with a one-shot migrate that web waits for, a worker and a clock; web
# scaled to three with + on one of its rows.
mkdir -p "$work/project"
cat > "$work/project/corral.toml" <<'TOML'
[programs.migrate]
command = "echo 'applying 3 migrations'; sleep 1; echo 'migrations applied'"
oneshot = true

[programs.web]
command = "echo \"$CORRAL_PROCESS_NAME listening on 127.0.0.1:$PORT\"; exec sleep 1000"
workers = 2
depends-on = [{ program = "migrate", condition = "completed-successfully" }]

[programs.worker]
command = "i=0; while :; do i=$((i + 1)); echo \"job $i done\"; sleep 1.5; done"
depends-on = [{ program = "migrate", condition = "completed-successfully" }]
ready-after = 0

[programs.clock]
command = "while :; do echo \"tick $(date +%T)\"; sleep 2; done"
TOML
echo 'GREETING=hello' > "$work/project/.env"
tmux new-session -d -s "$session-programs" -x 120 -y 40 -c "$work/project" "env -u NO_COLOR $corral --no-control; sleep 30"
wait_for "$session-programs" "web 2/2"
tmux send-keys -t "$session-programs" j j +
wait_for "$session-programs" "web 3/3"
sleep 2
capture "$session-programs" programs 120 40
tmux send-keys -t "$session-programs" q

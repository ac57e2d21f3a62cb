# shellcheck shell=bash
# Daemon mode of ci/corosync-tests (inside soft-RoCE): one `ringcastd -f`
# per node of each program's cluster, started before the program's
# processes and stopped with SIGTERM after them. The programs reach their
# node's daemon (RINGCAST_MODE=daemon) through the socket in the cluster
# file's run_dir. Sourced by run.sh; uses $conf, $logdir, $tmp, $build, fail.

declare -a daemon_pids=()
readonly ringcastd=$build/api/daemon/ringcastd
readonly cfgtool=$build/api/daemon/ringcast-cfgtool

# daemon_system_section: where the daemons keep their lock, status file,
# socket and incarnation: the program's temporary folder (the VM's / is
# read-only, /run is not the test's, and a unix socket's path must stay
# short: 107 bytes at most).
daemon_system_section() {
  printf 'system {\n    run_dir: %s\n    state_dir: %s\n}\n' "$tmp/run" "$tmp/state"
}

# start_daemons N: ringcastd -f for nodes 1..N of $conf, each logging to
# daemon$NODE.log, then waits until every one is in the operational ring of
# all N (ringcast-cfgtool -s). False, with a reason, when one is not.
start_daemons() {
  local n=$1 i
  for ((i = 1; i <= n; i++)); do
    (exec "$ringcastd" -f -c "$conf" -n "$i" >"$logdir/daemon$i.log" 2>&1) &
    daemon_pids[i]=$!
  done
  for ((i = 1; i <= n; i++)); do daemon_ready "$i" "$n" 60 || return 1; done
}

# daemon_ready NODE N SECONDS: ringcast-cfgtool answers for the node with an
# operational ring of N members.
daemon_ready() {
  local node=$1 n=$2 end=$((SECONDS + $3)) want out rc
  want=" operational, members $(seq -s ' ' 1 "$n")"
  while [[ $SECONDS -lt $end ]]; do
    out=$(RINGCAST_NODE_ID=$node "$cfgtool" -s -c "$conf" 2>&1) && [[ $out == *"$want"* ]] &&
      return 0
    if ! kill -0 "${daemon_pids[node]}" 2>/dev/null; then
      rc=0
      wait "${daemon_pids[node]}" || rc=$?
      unset "daemon_pids[node]"
      fail "daemon $node exited $rc before it was ready: $(tail -n 1 "$logdir/daemon$node.log")"
      return 1
    fi
    sleep 0.2
  done
  fail "daemon $node not in an operational ring of $n within $3 s: $(head -n 2 <<<"$out" | paste -sd' ')"
  return 1
}

# stop_daemons: SIGTERM to each daemon still running; each must exit 0
# within 15 s (it leaves the ring at once) and log no error line.
stop_daemons() {
  local node pid rc end line
  for node in "${!daemon_pids[@]}"; do kill -TERM "${daemon_pids[node]}" 2>/dev/null || true; done
  for node in "${!daemon_pids[@]}"; do
    pid=${daemon_pids[node]}
    end=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $end ]]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      fail "daemon $node did not stop within 15 s of SIGTERM (killed)"
      continue
    fi
    rc=0
    wait "$pid" || rc=$?
    [[ $rc -eq 0 ]] || fail "daemon $node exited $rc after SIGTERM"
    line=$(grep -a -m1 -E '^ringcastd: error: ' "$logdir/daemon$node.log") || line=""
    [[ -z $line ]] || fail "daemon $node: $line"
  done
  daemon_pids=()
}

# shellcheck shell=bash
# The pieces of daemon_rdma_test.sh: the device, the cluster file, daemons
# and clients as background processes, checks. Sourced; uses its globals
# (dir, port, failures, dpid, cpid, cfd, cnode, ringcastd, cfgtool, cpgtool,
# client).

step() { echo "--- $*"; }
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

no_device() {
  if [ "${RINGCAST_SOFTROCE:-}" = 1 ]; then
    echo "RINGCAST_SOFTROCE=1 but $1" >&2
    exit 1
  fi
  echo "skipped: no RDMA device ($1)"
  exit 0
}

# device, addrs[0..1]: RINGCAST_RDMA_DEVICE and RINGCAST_RDMA_ADDRS (as
# ci/softroce-run sets them), else the first device and an IPv4 address of
# its netdev; one address serves both nodes (their ports differ).
find_device() {
  device=${RINGCAST_RDMA_DEVICE:-}
  if [ -z "$device" ] && [ -d /sys/class/infiniband ]; then
    device=$(find /sys/class/infiniband -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | head -n 1)
  fi
  [ -n "$device" ] || no_device "no device in /sys/class/infiniband"
  read -r -a addrs <<<"${RINGCAST_RDMA_ADDRS:-}" || true
  if [ "${#addrs[@]}" -eq 0 ]; then
    local ndev netdev a
    for ndev in /sys/class/infiniband/"$device"/ports/1/gid_attrs/ndevs/*; do
      netdev=$(cat "$ndev" 2>/dev/null || true)
      [ -n "$netdev" ] || continue
      a=$(ip -4 -o addr show dev "$netdev" 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
      [ -z "$a" ] || { addrs=("$a") && break; }
    done
  fi
  [ "${#addrs[@]}" -gt 0 ] || no_device "no IPv4 address on $device"
  [ "${#addrs[@]}" -gt 1 ] || addrs+=("${addrs[0]}")
}

# Two nodes, a key, and a run directory of the test's own (the daemons'
# locks, status files and client sockets).
write_cluster_file() {
  conf=$dir/cluster.conf
  (umask 077 && head -c 32 /dev/urandom >"$dir/authkey")
  {
    printf 'auth {\n    key_file: authkey\n}\n'
    printf 'rdma {\n    device: %s\n' "$device"
    if [ -n "${RINGCAST_GID_INDEX:-}" ] && [ "$RINGCAST_GID_INDEX" -ge 0 ]; then
      printf '    gid_index: %s\n' "$RINGCAST_GID_INDEX"
    fi
    printf '}\nsystem {\n    run_dir: %s/run\n    state_dir: %s/state\n}\n' "$dir" "$dir"
    printf 'nodelist {\n'
    printf '    node {\n        nodeid: %d\n        address: %s\n        port: %d\n    }\n' \
      1 "${addrs[0]}" "$port" 2 "${addrs[1]}" $((port + 1))
    printf '}\n'
  } >"$conf"
}

start_daemon() {
  (exec "$ringcastd" -f -c "$conf" -n "$1" >"$dir/daemon$1.log" 2>&1) &
  dpid[$1]=$!
}

# The node's daemon is in the operational ring of both nodes (90 s).
daemon_ready() {
  local end=$((SECONDS + 90)) out=""
  while [[ $SECONDS -lt $end ]]; do
    out=$(RINGCAST_NODE_ID=$1 "$cfgtool" -s -c "$conf" 2>&1) &&
      [[ $out == *" operational, members 1 2"* ]] && return 0
    kill -0 "${dpid[$1]}" 2>/dev/null || { fail "daemon $1 exited: $(tail -n 2 "$dir/daemon$1.log")" && return 1; }
    sleep 0.2
  done
  fail "daemon $1 not in a ring of nodes 1 and 2 within 90 s: $out"
  return 1
}

ring_id() { RINGCAST_NODE_ID=$1 "$cfgtool" -s -c "$conf" 2>&1 | grep -m1 '^Ring ID' || true; }

stop_daemon() {
  local rc=0 end=$((SECONDS + 15))
  kill -TERM "${dpid[$1]}"
  while kill -0 "${dpid[$1]}" 2>/dev/null && [[ $SECONDS -lt $end ]]; do sleep 0.2; done
  wait "${dpid[$1]}" || rc=$?
  [[ $rc -eq 0 ]] || fail "daemon $1 exited $rc after SIGTERM"
  unset "dpid[$1]"
}

# start_client K NODE GROUPS AT_ONCE: client K on NODE's daemon, its stdin a
# fifo that `to K` writes, its output in client$K.log.
start_client() {
  local k=$1 fd
  mkfifo "$dir/in$k"
  exec {fd}<>"$dir/in$k"
  cfd[k]=$fd
  cnode[k]=$2
  (exec env RINGCAST_MODE=daemon RINGCAST_CONFIG="$conf" RINGCAST_NODE_ID="$2" \
    stdbuf -oL "$client" "$3" "$4" <"$dir/in$k" >"$dir/client$k.log" 2>&1) &
  cpid[k]=$!
}
to() { printf '%s\n' "$2" >&"${cfd[$1]}"; }
count() { grep -c -E -- "$2" "$dir/client$1.log" 2>/dev/null || true; }

# await K ERE SECONDS: a line of client K matches (false at once when the
# client is gone without it).
await() {
  local end=$((SECONDS + $3)) gone=0
  while [[ $SECONDS -lt $end ]]; do
    kill -0 "${cpid[$1]}" 2>/dev/null || gone=1
    grep -q -E -- "$2" "$dir/client$1.log" 2>/dev/null && return 0
    [[ $gone -eq 0 ]] || return 1
    sleep 0.1
  done
  return 1
}

# check_same_results N K...: each client reports N deliveries per group
# (the clients were told "await N"), no error, and the same hash as the
# first client's.
check_same_results() {
  local n=$1 k g line first
  shift
  for g in A B; do
    first=""
    for k in "$@"; do
      if ! await "$k" "^result $g delivered=$n " 150; then
        fail "client $k: no $n deliveries in $g: $(grep "^result $g " "$dir/client$k.log" | tail -n 1)"
        continue
      fi
      line=$(grep "^result $g delivered=$n " "$dir/client$k.log" | tail -n 1)
      [[ $line == *" errors=0" ]] || fail "client $k: $line (messages not as sent)"
      [[ -n $first ]] || first=${line#* hash=}
      [[ ${line#* hash=} == "$first" ]] || fail "client $k delivered another sequence in $g: $line"
    done
    echo "group $g: $n messages, the same sequence at clients $* (hash ${first% errors=*})"
  done
}

# check_cpgtool NODE K...: ringcast-cpgtool -d ' ' on NODE lists exactly
# clients K... in each group (pid, node).
check_cpgtool() {
  local node=$1 out rc=0 want g k
  shift
  out=$(RINGCAST_MODE=daemon RINGCAST_CONFIG=$conf RINGCAST_NODE_ID=$node "$cpgtool" -d ' ' 2>&1) || rc=$?
  [[ $rc -eq 0 ]] || { fail "ringcast-cpgtool on node $node exited $rc: $out" && return; }
  want=$(for g in A B; do for k in "$@"; do echo "$g ${cpid[k]} ${cnode[k]}"; done; done | sort)
  [[ $(tail -n +2 <<<"$out" | sort) == "$want" ]] ||
    fail "ringcast-cpgtool on node $node listed:
$out
expected (in any order):
$want"
}

# cleanup: whatever still runs is killed; the logs are shown on a failure.
cleanup() {
  local p f
  for p in "${cpid[@]}" "${dpid[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $failures -ne 0 ]]; then
    for f in "$dir"/daemon*.log "$dir"/client*.log; do
      [[ -s $f ]] || continue
      echo "--- ${f##*/} (last lines)"
      tail -n 15 "$f"
    done
  fi
  rm -rf "$dir"
}

# Later steps need what the earlier ones set up: stop at the first failure.
checkpoint() { [[ $failures -eq 0 ]] || finish; }

finish() {
  if [[ $failures -ne 0 ]]; then
    echo "$failures check(s) failed" >&2
    exit 1
  fi
  echo "ringcastd over RDMA: every check held"
}

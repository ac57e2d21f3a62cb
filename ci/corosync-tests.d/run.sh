# shellcheck shell=bash
# Runner side of ci/corosync-tests (inside soft-RoCE): clusters, node
# processes, deadlines, verdicts. Sourced; uses $root, $work, $mode, say, die.
# A program's function (programs.sh) sets `reason` (empty: it passed) and may
# add to `notes` (said with PASS, not a failure).

bin=$work/bin
reason=""
notes=""
logdir=""
conf=""
declare -a pids=() status=() stdin_of=() feed_fds=() failed_node=() node_of=()
port_next=17600

# The cs_error_t names, from ringcast's header (the values are corosync's).
cs_name() {
  local n
  n=$(awk -v v="$1" '$1 ~ /^CS_(OK|ERR_[A-Z_]+)$/ && $3 == v "," { print $1; exit }' \
    "$root/api/include/ringcast/corotypes.h")
  printf '%s\n' "${n:-$1}"
}

# new_cluster NODES: a cluster file of NODES nodes (the first NODES addresses
# of RINGCAST_RDMA_ADDRS, ports of their own per program) with a fresh key.
# In daemon mode it starts their daemons too; false when one is not ready
# (the reason is given).
new_cluster() {
  local n=$1 i addrs key
  read -r -a addrs <<<"$RINGCAST_RDMA_ADDRS"
  [[ ${#addrs[@]} -ge $n ]] || die "RINGCAST_RDMA_ADDRS has ${#addrs[@]} addresses, $n needed"
  key=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
  conf=$logdir/cluster.conf
  # It holds the key: only its owner may read it (ringcast refuses it otherwise).
  : >"$conf"
  chmod 600 "$conf"
  {
    echo "rdma {"
    echo "    device: $RINGCAST_RDMA_DEVICE"
    [[ -z ${RINGCAST_GID_INDEX:-} ]] || echo "    gid_index: $RINGCAST_GID_INDEX"
    echo "}"
    echo "auth {"
    echo "    key: $key"
    echo "}"
    echo "nodelist {"
    for ((i = 1; i <= n; i++)); do
      printf '    node {\n        nodeid: %d\n        address: %s\n        port: %d\n    }\n' \
        "$i" "${addrs[i - 1]}" $((port_next + i - 1))
    done
    echo "}"
    [[ $mode != daemon ]] || daemon_system_section
  } >"$conf"
  port_next=$((port_next + 10))
  [[ $mode != daemon ]] || start_daemons "$n"
}

# feed NODE: the node's stdin becomes a fifo that `say_to NODE LINE` writes.
feed() {
  local f=$tmp/stdin$1
  mkfifo "$f"
  local fd
  exec {fd}<>"$f" # held open: the program never sees an end of file
  stdin_of[$1]=$f
  feed_fds+=("$fd")
}
say_to() { printf '%s\n' "$2" >"${stdin_of[$1]}"; }

# start NODE PROGRAM ARGS...: the program as process NODE (on the cluster's
# node NODE, or node_of[NODE] where set: several processes of one node share
# its daemon), in $mode mode, stdout line-buffered (stdbuf: as on a
# terminal, so its lines are seen while it runs), its calls observed
# (cpg_calls.so), stdout and stderr in node$NODE.log.
start() {
  local node=$1 prog=$2
  shift 2
  (exec env RINGCAST_MODE="$mode" RINGCAST_CONFIG="$conf" RINGCAST_NODE_ID="${node_of[node]:-$node}" \
    CPG_CALLS_LOG="$logdir/node$node.calls" LD_PRELOAD="$bin/cpg_calls.so${preload_extra:+ $preload_extra}" \
    ALARM_SCALE_MS="$alarm_scale_ms" \
    stdbuf -oL -eL "$bin/$prog" "$@" <"${stdin_of[$node]:-/dev/null}" \
    >"$logdir/node$node.log" 2>&1) &
  pids[node]=$!
  status[node]=running
}

# wait_node NODE SECONDS: its exit status in status[NODE], or "timeout"
# (then it is killed).
wait_node() {
  local node=$1 end=$((SECONDS + $2)) pid=${pids[$1]} rc=0
  while kill -0 "$pid" 2>/dev/null && [[ $SECONDS -lt $end ]]; do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    status[node]=timeout
    return 0
  fi
  wait "$pid" || rc=$?
  status[node]=$rc
}

# wait_lines NODE ERE COUNT SECONDS [GIVE_UP_ERE]: true once node$NODE.log
# has COUNT lines matching ERE; false at the deadline, when the node exited
# short of them, or once a line matches GIVE_UP_ERE (a failure it reports).
wait_lines() {
  local log=$logdir/node$1.log end=$((SECONDS + $4)) n
  while [[ $SECONDS -lt $end ]]; do
    n=$(grep -a -c -E -- "$2" "$log" 2>/dev/null) || n=0
    [[ $n -lt $3 ]] || return 0
    kill -0 "${pids[$1]}" 2>/dev/null || return 1
    [[ -z ${5:-} ]] || ! grep -a -q -E -- "$5" "$log" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}

# signal_node NODE SIG
signal_node() { kill -s "$2" "${pids[$1]}" 2>/dev/null || true; }

# Adds a reason ("node N: ..." or "node N ..."); the same words already given
# for another node are not repeated. failed_node[N] marks a node with one.
fail() {
  local text=$* seen node=""
  [[ ! $text =~ ^node\ ([0-9]+)[:\ ] ]] || node=${BASH_REMATCH[1]}
  [[ -z $node ]] || failed_node[node]=1
  seen=$(sed -E 's/(^|; )node [0-9]+: /\1/g' <<<"$reason")
  [[ "; $seen; " != *"; ${text#node [0-9]: }; "* ]] || return 0
  reason+="${reason:+; }$text"
}

# exited NODE WANT: the node's exit status must be WANT (a number, or
# "signal:NAME" for a program stopped by that signal by design).
exited() {
  local node=$1 want=$2 got=${status[$1]}
  [[ $want != signal:* ]] || want=$((128 + $(kill -l "${want#signal:}")))
  [[ $got == "$want" ]] && return 0
  # An exit status that follows a failure the node printed adds nothing.
  [[ -z ${failed_node[node]:-} || ! $got =~ ^[0-9]+$ || $got -gt 128 && $got -le 192 ]] || return 1
  case $got in
    timeout) fail "node $node did not end in time (killed)" ;;
    running) fail "node $node still running" ;;
    *)
      if [[ $got -gt 128 && $got -le 192 ]]; then
        fail "node $node died of SIG$(kill -l $((got - 128))) (exit $got, expected $want)"
      else
        fail "node $node exited $got (expected $want)"
      fi
      ;;
  esac
  return 1
}

# has_line NODE ERE WHAT / no_line NODE ERE: a line the program prints on
# success must be there; its failure lines must not.
has_line() {
  [[ -z ${failed_node[$1]:-} ]] || return 0
  grep -a -q -E -- "$2" "$logdir/node$1.log" 2>/dev/null || fail "node $1: no '$3' line"
}
no_line() {
  local line
  line=$(grep -a -m1 -E -- "$2" "$logdir/node$1.log" 2>/dev/null) || return 0
  fail "node $1: $line"
}
count_lines() { grep -a -c -E -- "$2" "$logdir/node$1.log" 2>/dev/null || true; }

# The library's error lines on stderr. Its other "ringcast: " lines say what
# it does (the device, the ring formed, links down when a peer process ends),
# and a connection attempt to a node not started yet is retried.
readonly library_error_ere='^ringcast: .*(fail|leak|assert|cannot|could not|dropped|refused|error)'

# library_clean NODE: no library error line and no call refused that the
# program ignores (cpg_calls.so: any result other than CS_OK and
# CS_ERR_TRY_AGAIN, save the ALLOWED result numbers).
library_clean() {
  local node=$1 allowed=" 1 6 ${2:-} " line fn r at total failed_before=${failed_node[$1]:-}
  line=$(grep -a -E -- "$library_error_ere" "$logdir/node$node.log" 2>/dev/null |
    grep -v -m1 '^ringcast: connecting to ') || line=""
  [[ -z $line ]] || fail "node $node: $line"
  # A refused call that the node's own failure line already reported.
  [[ -z $failed_before ]] || return 0
  while read -r _ fn r at; do
    [[ $allowed != *" $r "* ]] || continue
    total=$(awk -v f="$fn" -v r="$r" '$1 == "total" && $2 == f {
      for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == r) print kv[2] } }' \
      "$logdir/node$node.calls")
    line="node $node: $fn returned $(cs_name "$r") (first at ${at#call=}"
    [[ -z $total ]] || line+=", $total times in all"
    fail "$line)"
    return 0
  done < <(grep '^first ' "$logdir/node$node.calls" 2>/dev/null)
}

# stop_all: whatever still runs of this program is killed.
stop_all() {
  local node fd
  for node in "${!pids[@]}"; do
    if kill -0 "${pids[node]}" 2>/dev/null; then
      kill -KILL "${pids[node]}" 2>/dev/null || true
      wait "${pids[node]}" 2>/dev/null || true
    fi
  done
  for fd in "${feed_fds[@]}"; do exec {fd}>&-; done
  feed_fds=()
  [[ $mode != daemon ]] || stop_daemons
}

show_logs() {
  local f
  for f in "$logdir"/node*.log "$logdir"/node*.calls "$logdir"/daemon*.log; do
    [[ -s $f ]] || continue
    printf '  --- %s (last lines)\n' "${f#"$work"/}"
    tail -n 12 "$f" | tr -d '\000' | cut -c1-200 | sed 's/^/  | /'
  done
}

run_one() {
  local p=$1 built
  built=$(cat "$bin/$(program_of "$p").build" 2>/dev/null) || built="not built"
  logdir=$work/logs/$p
  reason=""
  notes=""
  pids=()
  status=()
  stdin_of=()
  failed_node=()
  node_of=()
  if [[ $built != ok ]]; then
    reason="build failed: $built"
  else
    mkdir -p "$logdir"
    find "$logdir" -maxdepth 1 \( -name 'node*' -o -name 'daemon*' \) -delete 2>/dev/null || true
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/corosync-tests.XXXXXX")
    local t0=$SECONDS
    # (|| true: a check's non-zero status must not end the whole run.)
    "run_$p" || true
    stop_all
    rm -rf "$tmp"
    notes+="${notes:+; }$((SECONDS - t0)) s"
  fi
  if [[ -z $reason ]]; then
    printf 'PASS %s (%s)\n' "$p" "$notes"
    return 0
  fi
  printf 'FAIL %s: %s\n' "$p" "$reason"
  [[ -z $notes ]] || printf '  (%s)\n' "$notes"
  [[ $built != ok ]] && sed -n '1,6s/^/  | /p' "$logdir/build.log" || show_logs
  return 1
}

run_all() {
  local p passed=0 failed=0 t0=$SECONDS
  [[ -n ${RINGCAST_RDMA_DEVICE:-} && -n ${RINGCAST_RDMA_ADDRS:-} ]] ||
    die "no RDMA device (RINGCAST_RDMA_DEVICE, RINGCAST_RDMA_ADDRS): run through ci/softroce-run"
  ulimit -c 0
  for p in "$@"; do
    if run_one "$p"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  say "ran ${#@} program(s) in $((SECONDS - t0)) s ($mode mode; logs in $work/logs)"
  printf '%d passed, %d failed\n' "$passed" "$failed"
  [[ $failed -eq 0 ]]
}

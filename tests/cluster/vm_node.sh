#!/usr/bin/env bash
# tests/cluster/vm_node.sh BUILD_DIR: what each VM of the separate-hosts test
# runs (under ci/softroce-cluster, which sets RINGCAST_NODE_INDEX,
# RINGCAST_NODE_ID, RINGCAST_LOCAL_ADDR, RINGCAST_CLUSTER_ADDRS). In turn:
#   lat     ib_write_lat between VM 0 (server) and VM 1 (client)
#   bench   a static ring of every VM: ringcast-bench --config --node
#   stream  member_stream or cpg_stream (CLUSTER_PROGRAM), its stdin = the
#           VM's inbox, so the host's control script sends it "stop", "exit"
# CLUSTER_PHASES (default "lat bench stream") picks the phases.
set -uo pipefail
build=${1:?usage: vm_node.sh BUILD_DIR}
index=${RINGCAST_NODE_INDEX:?run under ci/softroce-cluster}
id=${RINGCAST_NODE_ID:?}
read -r -a addrs <<<"${RINGCAST_CLUSTER_ADDRS:?}"
phases=${CLUSTER_PHASES:-lat bench stream}
bench_count=${CLUSTER_BENCH_COUNT:-3000}
stream_rate=${CLUSTER_STREAM_RATE:-100}
# The stream's program: member (runtime::MembershipNode, member_stream), cpg
# (the CPG API in embedded mode, cpg_stream: the process is the ring member)
# or daemon (cpg_stream in client mode through the VM's ringcastd).
program=${CLUSTER_PROGRAM:-member}
conf=/tmp/cluster.conf

# The cluster file (the same in every VM) and its key: 32 fixed bytes, so
# every VM holds the same one (the test checks set-up with a key, not secrecy).
write_cluster_file() {
  local i
  printf '%b' "$(printf '\\x%02x' $(seq 101 132))" >/tmp/authkey
  chmod 600 /tmp/authkey
  {
    printf 'totem {\n    log_size_bytes: 8M\n}\n'
    printf 'rdma {\n    device: %s\n    gid_index: %s\n}\n' "${RINGCAST_RDMA_DEVICE:-rxe0}" "${RINGCAST_GID_INDEX:-1}"
    printf 'auth {\n    key_file: authkey\n}\n'
    printf 'system {\n    run_dir: /tmp/ringcast-run\n    state_dir: /tmp/ringcast-state\n}\n'
    printf 'nodelist {\n'
    for i in "${!addrs[@]}"; do
      printf '    node {\n        nodeid: %d\n        address: %s\n    }\n' $((i + 1)) "${addrs[i]}"
    done
    printf '}\n'
  } >"$conf"
}

# ib_write_lat from VM 1 to VM 0 (the server); prints one summary line.
phase_lat() {
  local out=/tmp/lat.out try row
  case $index in
    0) timeout 120 ib_write_lat -d rxe0 -x 1 -n 1000 -F >"$out" 2>&1 ;;
    1)
      for try in $(seq 1 30); do
        timeout 120 ib_write_lat -d rxe0 -x 1 -n 1000 -F "${addrs[0]}" >"$out" 2>&1 && break
        sleep 1
      done
      # The table row: bytes iterations t_min t_max t_typical t_avg t_stdev p99 p99.9
      row=$(awk '$1 == 2 && NF >= 9 { print; exit }' "$out")
      if [[ -n $row ]]; then
        read -r -a f <<<"$row"
        echo "ib_write_lat vm1->vm0 2 B: t_typical_us=${f[4]} t_avg_us=${f[5]} p99_us=${f[7]} (tries $try)"
      else
        echo "ib_write_lat FAILED: $(tail -n 3 "$out" | tr '\n' ' ')"
      fi
      ;;
  esac
  echo "phase lat done"
}

phase_bench() {
  "$build/bench/ringcast-bench" --config "$conf" --node "$id" -n "$bench_count" -s 64 \
    --mode throughput --full-check --timeout 300 2>&1 | sed 's/^/bench: /'
  echo "phase bench done"
}

# cpg_stream in client mode through the VM's ringcastd: the daemon is the
# ring member, started first; the program connects once it answers
# (ringcast-cfgtool exits 0) and the daemon leaves the ring when it ends.
stream_through_daemon() {
  local daemon status end=$((SECONDS + 60))
  "$build/api/daemon/ringcastd" -f -c "$conf" -n "$id" </dev/null 2>/tmp/ringcastd.log &
  daemon=$!
  until RINGCAST_NODE_ID=$id "$build/api/daemon/ringcast-cfgtool" -s -c "$conf" >/dev/null 2>&1; do
    if ! kill -0 "$daemon" 2>/dev/null || [[ $SECONDS -ge $end ]]; then
      echo "error ringcastd did not answer: $(tail -n 2 /tmp/ringcastd.log | tr '\n' ' ')"
      exit 1
    fi
    sleep 0.2
  done
  RINGCAST_MODE=daemon RINGCAST_CONFIG=$conf RINGCAST_NODE_ID=$id "$build/tests/cluster/cpg_stream" "$stream_rate" 64
  status=$?
  kill -TERM "$daemon" 2>/dev/null
  wait "$daemon"
  exit "$status"
}

write_cluster_file
for p in $phases; do
  case $p in
    lat) phase_lat ;;
    bench) phase_bench ;;
    stream)
      echo "phase stream ($program)"
      # Each view's running hashes, for the host's prefix check (scenario.sh).
      export RINGCAST_VIEW_HASHES=${SOFTROCE_CLUSTER_SHARE:-/tmp}/view-hashes
      case $program in
        cpg) RINGCAST_MODE=embedded RINGCAST_CONFIG=$conf RINGCAST_NODE_ID=$id exec "$build/tests/cluster/cpg_stream" "$stream_rate" 64 ;;
        daemon) stream_through_daemon ;;
        member) exec "$build/tests/cluster/member_stream" ;;
        *) echo "error CLUSTER_PROGRAM is cpg or member, not $program" && exit 2 ;;
      esac
      ;;
    *) echo "error unknown phase $p" && exit 2 ;;
  esac
done

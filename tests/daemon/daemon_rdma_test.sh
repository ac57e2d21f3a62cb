#!/usr/bin/env bash
# ringcastd over RDMA, with its clients (RINGCAST_MODE=daemon):
#   daemon_rdma_test.sh RINGCASTD CFGTOOL CPGTOOL CLIENT
# Two daemons (nodes 1 and 2 of one cluster file, two addresses of the
# device, ports of their own), three daemon_client processes per node, each
# in groups A and B:
#   1. ringcast-cpgtool on either node lists all six in both groups;
#   2. a stream (every client sends to both groups at once): every client
#      delivers the same sequence (count, hash), every message intact;
#   3. kill -9 of a client: PROCDOWN at every other member of its groups, no
#      ring change (no totem confchg, the same ring id);
#   4. a client started on the running cluster joins and sends at once
#      without CS_ERR_TRY_AGAIN, and the others deliver its messages;
#   5. kill -9 of daemon 2: NODEDOWN for each of its clients at node 1's,
#      and its own clients see the daemon gone;
#   6. SIGTERM stops daemon 1: exit 0.
# No device: "skipped: no RDMA device", except under RINGCAST_SOFTROCE=1.
set -euo pipefail
ringcastd=$1
cfgtool=$2
cpgtool=$3
client=$4
port=${RINGCAST_DAEMON_TEST_PORT:-17820}
messages=300
dir=$(mktemp -d "${TMPDIR:-/tmp}/ringcastd-rdma.XXXXXX")
failures=0
declare -a dpid=() cpid=() cfd=() cnode=()

# shellcheck source=tests/daemon/daemon_rdma_lib.sh
source "$(dirname "$0")/daemon_rdma_lib.sh"
trap cleanup EXIT
trap 'exit 1' TERM INT # (ctest's timeout: the EXIT trap still shows the logs)

find_device
write_cluster_file
step "daemons of nodes 1 and 2 on $device ${addrs[0]} ${addrs[1]}, ports $port and $((port + 1))"
start_daemon 1
start_daemon 2
daemon_ready 1 || exit 1
daemon_ready 2 || exit 1
ring_before=$(ring_id 1)

step "three clients per node in groups A and B"
for k in 1 2 3 4 5 6; do start_client "$k" $(((k - 1) / 3 + 1)) AB 0; done
for k in 1 2 3 4 5 6; do
  for g in A B; do await "$k" "^members $g 6$" 60 || fail "client $k: group $g never had 6 members"; done
  await "$k" '^started startup_tryagain=' 5 || fail "client $k did not start"
  checkpoint
done

step "ringcast-cpgtool lists all six at both nodes"
for node in 1 2; do check_cpgtool "$node" 1 2 3 4 5 6; done

step "a stream of $messages messages per client and group"
for k in 1 2 3 4 5 6; do to "$k" "send $messages"; done
for k in 1 2 3 4 5 6; do to "$k" "await $((6 * messages))"; done
check_same_results $((6 * messages)) 1 2 3 4 5 6

step "kill -9 of client 3: PROCDOWN at the other five, no ring change"
kill -KILL "${cpid[3]}"
for k in 1 2 4 5 6; do
  for g in A B; do
    await "$k" "^left $g 1 ${cpid[3]} 5$" 30 || fail "client $k saw no PROCDOWN of client 3 in $g"
  done
done
for k in 1 2 4 5 6; do
  [[ $(count "$k" '^totem ') -eq 0 ]] || fail "client $k saw a ring change: $(grep -m1 '^totem' "$dir/client$k.log")"
done
[[ $(ring_id 1) == "$ring_before" ]] || fail "the ring changed: $ring_before, then $(ring_id 1)"

step "a client started on the running cluster joins and sends at once"
start_client 7 2 AB 5
await 7 '^started ' 30 || fail "client 7 did not start"
grep -q '^started startup_tryagain=0$' "$dir/client7.log" ||
  fail "client 7: $(grep -m1 '^started' "$dir/client7.log") (CS_ERR_TRY_AGAIN at start)"
checkpoint
for k in 1 2 4 5 6; do to "$k" "await $((6 * messages + 5))"; done
check_same_results $((6 * messages + 5)) 1 2 4 5 6
check_cpgtool 1 1 2 4 5 6 7

step "kill -9 of daemon 2: NODEDOWN for its clients at node 1's"
kill -KILL "${dpid[2]}"
for k in 1 2; do
  for c in 4 5 6 7; do
    for g in A B; do
      await "$k" "^left $g 2 ${cpid[c]} 3$" 30 || fail "client $k saw no NODEDOWN of client $c in $g"
    done
  done
done
for c in 4 5 6 7; do await "$c" '^lost A ' 30 || fail "client $c did not see its daemon go"; done

step "clients of node 1 exit; SIGTERM stops daemon 1"
for k in 1 2; do
  to "$k" exit
  await "$k" '^bye errors=0$' 30 || fail "client $k: $(tail -n 1 "$dir/client$k.log")"
done
stop_daemon 1
finish

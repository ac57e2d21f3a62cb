# shellcheck shell=bash
# How each of corosync's CPG test programs is run and judged. Sourced.
# Every verdict comes from the program's own criteria (its exit status, the
# lines it prints on success and on failure), plus two checks of work it
# cannot see itself: no library error line and no call refused that it
# ignores (library_clean). Budgets are each program's deadline in seconds.

declare -A budget=(
  [testcpg]=150 [testcpg2]=40 [testcpgzc]=150 [testzcgc]=60 [cpgverify]=240 [cpghum]=150
  [stress_cpgfdget]=240 [stress_cpgcontext]=900 [stress_cpgzc]=600 [cpgbound]=90
  [cpgbench]=240 [cpgbenchzc]=700 [testcpg_shared]=150 [cpgverify_shared]=240
)

# Daemon mode only (testcpg_shared, cpgverify_shared): two processes of one
# program on one node at once, as corosync runs them; NAME_shared runs NAME.
program_of() { printf '%s\n' "${1%_shared}"; }

budget_s() {
  local p sum=0
  for p in "$@"; do sum=$((sum + ${budget[$p]})); done
  echo "$sum"
}

# The lines matching ERE, in the same order at nodes 1..N (total order).
same_order() {
  local n=$1 ere=$2 i
  grep -a -E -- "$ere" "$logdir/node1.log" >"$tmp/order1" || true
  for ((i = 2; i <= n; i++)); do
    grep -a -E -- "$ere" "$logdir/node$i.log" >"$tmp/order$i" || true
    cmp -s "$tmp/order1" "$tmp/order$i" ||
      fail "nodes 1 and $i delivered in different orders: $(paste -sd'|' "$tmp/order1") / $(paste -sd'|' "$tmp/order$i")"
  done
}

retries_note() {
  local n i total=0
  for ((i = 1; i <= $1; i++)); do
    n=$(count_lines "$i" '^Retrying operation')
    total=$((total + ${n:-0}))
  done
  [[ $total -eq 0 ]] || notes+="${notes:+; }$total 'Retrying operation' (TRY_AGAIN, retried by the program)"
}

# testcpg and testcpgzc: what a user does with them on 3 nodes: wait for
# the group of 3, type a line on each node, see all 3 lines delivered at
# every node in the same order, type EXIT. Each program prints "Finalize
# result is 1 (should be 1)" and exits 0; "Could not ..." lines are its
# failures. NODES (default 3): the cluster's size, when node_of puts
# several of the 3 processes on one node.
interactive_group() {
  local prog=$1 n
  new_cluster "${2:-3}" || return 1
  for n in 1 2 3; do
    feed "$n"
    start "$n" "$prog"
  done
  for n in 1 2 3; do
    wait_lines "$n" '^nodes in group now 3$' 1 90 '^Could not' && continue
    no_line "$n" '^Could not'
    fail "node $n: the group never reached 3 members (no 'nodes in group now 3')"
    return
  done
  for n in 1 2 3; do say_to "$n" "hello from node $n"; done
  for n in 1 2 3; do
    wait_lines "$n" "^DeliverCallback: .*'hello from node [0-9]" 3 30 ||
      { fail "node $n: delivered $(count_lines "$n" "^DeliverCallback: .*'hello from node") of the 3 lines typed" && return; }
  done
  for n in 1 2 3; do say_to "$n" EXIT; done
  for n in 1 2 3; do wait_node "$n" 30; done
  for n in 1 2 3; do
    no_line "$n" '^(Could not|failed to get local nodeid)'
    exited "$n" 0
    has_line "$n" '^Finalize  result is 1 ' 'Finalize  result is 1 (should be 1)'
    library_clean "$n"
  done
  same_order 3 "^DeliverCallback: .*'hello from node"
}

run_testcpg() {
  interactive_group testcpg
  retries_note 3
}

# testcpgzc also waits for its own leave ("We have left the building").
run_testcpgzc() {
  interactive_group testcpgzc || return 0
  local n
  for n in 1 2 3; do has_line "$n" '^We have left the building$' 'We have left the building'; done
}

# testcpg2 says "All of the nodeids should match on a single node
# configuration for the test to pass": one node, asserts, exit 0, and every
# node id it prints equal.
run_testcpg2() {
  new_cluster 1 || return
  start 1 testcpg2
  wait_node 1 30
  no_line 1 'Assertion'
  exited 1 0
  library_clean 1
  local ids
  ids=$(grep -a -oE '(local_get:|confchg nodeid|self delivered nodeid:) [0-9]+' "$logdir/node1.log" |
    awk '{ print $NF }' | sort -u | paste -sd,)
  [[ -n $ids ]] || fail "no node id printed"
  [[ $ids != *,* ]] || fail "node ids do not match: $ids"
  grep -a -q 'self delivered' "$logdir/node1.log" || notes+="${notes:+; }no self delivery within its 1 s poll"
}

# testzcgc: 100 zero-copy buffers of 1 MiB, never freed, exit 0: the library
# must take them back at exit. Two nodes at once.
run_testzcgc() {
  new_cluster 2 || return
  start 1 testzcgc
  start 2 testzcgc
  local n
  for n in 1 2; do wait_node "$n" 50; done
  for n in 1 2; do
    no_line "$n" '^Could not'
    exited "$n" 0
    library_clean "$n"
  done
}

# cpgverify -i N on 3 nodes: messages of 100 to 100,099 bytes with a CRC,
# every delivery checked ("incorrect hash" and exit 1 on a mismatch).
# "Couldn't initialize" exits 0 but did nothing: a failure.
run_cpgverify() { verify_group 3 3; }

# verify_group NODES PROCESSES: cpgverify as PROCESSES processes on a
# cluster of NODES nodes (node_of says which process runs on which).
verify_group() {
  local n procs
  procs=$(seq 1 "$2")
  new_cluster "$1" || return
  for n in $procs; do start "$n" cpgverify -i 200; done
  for n in $procs; do wait_node "$n" 220; done
  for n in $procs; do
    no_line "$n" "^(incorrect hash|Couldn't initialize|cpg_join failed|cpg_dispatch failed)"
    exited "$n" 0
    [[ $(count_lines "$n" '^SIZE [0-9]+ HASH') -gt 0 ]] || fail "node $n: no message verified"
    library_clean "$n"
  done
  notes+="${notes:+; }verified $(for n in $procs; do count_lines "$n" '^SIZE'; done | paste -sd, | sed 's/,/, /g') messages"
}

# Two processes of testcpg on node 1 and one on node 2: one group of 3.
run_testcpg_shared() {
  node_of=([1]=1 [2]=1 [3]=2)
  interactive_group testcpg 2
  retries_note 3
}

# Two cpgverify on each of 2 nodes: 4 processes, every message checked at all.
run_cpgverify_shared() {
  node_of=([1]=1 [2]=1 [3]=2 [4]=2)
  verify_group 2 4
}

# cpghum, default mode (model 1, CRC and sequence checks): node 1 listens
# (-l, stopped with SIGINT, which it handles), nodes 2 and 3 send (4 KiB and
# 64 KiB, every 10 ms, 2 x 3 s). Exit 0 without errors, 2 on a send, CRC,
# length or sequence error; its stats must show traffic.
run_cpghum() {
  new_cluster 3 || return
  start 1 cpghum -l
  start 2 cpghum -d 10 -p 3 -r 2
  start 3 cpghum -d 10 -p 3 -r 2 -w 64
  wait_node 2 100
  wait_node 3 20
  sleep 2
  signal_node 1 INT
  wait_node 1 20
  local n
  for n in 1 2 3; do
    no_line "$n" "(don't match|send failed|failed with result|invalid nodeid)"
    exited "$n" 0
    has_line "$n" '^ +packets recvd: +[1-9]' 'packets recvd: >0'
    library_clean "$n"
  done
  for n in 2 3; do has_line "$n" '^ +packets sent: +[1-9]' 'packets sent: >0'; done
  notes+="${notes:+; }listener got $(grep -a -oE 'packets recvd: +[0-9]+' "$logdir/node1.log" | awk '{ print $NF }')"
}

# The three stress programs print PASS (exit 0) or FAIL (exit 255). Two
# nodes at once.
stress() {
  new_cluster 2 || return
  start 1 "$1"
  start 2 "$1"
  local n
  for n in 1 2; do wait_node "$n" $((${budget[$1]} - 20)); done
  local line
  for n in 1 2; do
    line=$(grep -a -m1 -E '^FAIL' "$logdir/node$n.log") || line=""
    [[ $line != "FAIL "[0-9]* ]] || line+=" ($(cs_name "${line#FAIL }"))"
    [[ -z $line ]] || fail "node $n: $line"
    exited "$n" 0
    has_line "$n" '^PASS$' PASS
    library_clean "$n"
  done
}
run_stress_cpgfdget() { stress stress_cpgfdget; }
run_stress_cpgcontext() { stress stress_cpgcontext; }
run_stress_cpgzc() { stress stress_cpgzc; }

# cpgbound sends 1,025,000 bytes and one byte more each time until a send is
# refused with CS_ERR_INVALID_PARAM ("found boundary at N", exit 1). Under
# corosync 3 (which fragments) there is no boundary below its 2,000,000-byte
# buffer: it runs until stopped. So: two nodes for 20 s, each still sending
# ("msg size" lines), no boundary, then SIGINT (default action: it ends).
# It ignores every other result: refused sends are seen by cpg_calls.so.
run_cpgbound() {
  new_cluster 2 || return
  start 1 cpgbound
  start 2 cpgbound
  local n
  sleep 20
  for n in 1 2; do signal_node "$n" INT; done
  for n in 1 2; do wait_node "$n" 20; done
  for n in 1 2; do
    no_line "$n" "^(found boundary|Couldn't initialize|cpg_join failed|cpg_dispatch failed)"
    exited "$n" signal:INT
    [[ $(count_lines "$n" '^msg size') -gt 0 ]] || fail "node $n: no 'msg size' line (nothing sent)"
    library_clean "$n"
  done
  notes+="${notes:+; }$(count_lines 1 '^msg size') and $(count_lines 2 '^msg size') sends in 20 s"
}

# cpgbench / cpgbenchzc: 10 s rounds of flooding (7 sizes from 64 bytes to
# 1,000,000; 50 sizes from 1,000 to 50,000 zero copy), one result line per
# round, exit 0. A round that received nothing did not do its work.
bench() {
  local prog=$1 rounds=$2 n
  new_cluster 2 || return
  # --quick: rounds of 1 s instead of 10 (alarm_scale.so); the budget too.
  local preload_extra=""
  [[ $alarm_scale_ms == 1000 ]] || preload_extra=$bin/alarm_scale.so
  start 1 "$prog"
  start 2 "$prog"
  for n in 1 2; do wait_node "$n" $((${budget[$prog]} - 20)); done
  for n in 1 2; do
    no_line "$n" "(failed with result|returned error|couldn't allocate)"
    exited "$n" 0
    no_line "$n" '^ *0 messages received'
    [[ $(count_lines "$n" 'messages received .* bytes per write') -eq $rounds ]] ||
      fail "node $n: $(count_lines "$n" 'messages received') result lines, $rounds expected"
    library_clean "$n"
  done
  notes+="${notes:+; }node 1 last round: $(grep -a 'messages received' "$logdir/node1.log" | tail -n 1 | tr -s ' ' | sed 's/^ //; s/\.$//')"
}
run_cpgbench() { bench cpgbench 7; }
run_cpgbenchzc() { bench cpgbenchzc 50; }

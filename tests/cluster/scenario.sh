#!/usr/bin/env bash
# tests/cluster/scenario.sh: the host side of the separate-hosts test, run by
# ci/softroce-cluster --control while every VM runs tests/cluster/vm_node.sh.
# Follows the VMs' output, makes the faults and asserts; exits non-zero on the
# first failed check.
#   lat     ib_write_lat between VM 1 and VM 0 gave a figure
#   bench   the static ring of 3 delivered the same count and hash everywhere
#   stream  3 cpg_stream members in one view; then, with CLUSTER_FAULTS=1
#           (default): VM 2's QEMU killed -> the survivors' confchg (time
#           measured) and the stream goes on; VM 1's link unplugged -> two
#           views of one; plugged back -> one view of two again; finally
#           every view that two members went through has the same count and
#           hash at both (virtual synchrony), no member saw a bad message.
set -uo pipefail
ctl=${SOFTROCE_CLUSTER_CTL:?run by ci/softroce-cluster --control}
n=${SOFTROCE_CLUSTER_N:?}
phases=${CLUSTER_PHASES:-lat bench stream}
faults=${CLUSTER_FAULTS:-1}
# Generous: a VM is an emulated CPU sharing 2 host cores with 2 others.
reform_s=${CLUSTER_REFORM_TIMEOUT_S:-60}

say() { printf 'scenario: %s\n' "$*" >&2; }
die() {
  say "FAILED: $*"
  exit 1
}
wait_line() { # wait_line VM ERE SECS WHAT: prints the line
  $ctl wait "$1" "$2" "$3" || die "VM $1: no line matching /$2/ within $3 s ($4)"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
has_phase() { [[ " $phases " == *" $1 "* ]]; }
all_vms() { seq 0 $((n - 1)); }

check_lat() {
  local line
  line=$(wait_line 1 '^ib_write_lat ' 240 "ib_write_lat vm1 -> vm0")
  [[ $line != *FAILED* ]] || die "$line"
  say "$line"
  wait_line 0 '^phase lat done' 120 "ib_write_lat server" >/dev/null
}

check_bench() {
  local i line first=""
  for i in $(all_vms); do
    line=$(wait_line "$i" '^bench: (delivered|FAILED)' 400 "ringcast-bench on a static ring")
    [[ $line == "bench: delivered:"* ]] || die "VM $i: $line"
    [[ -n $first ]] || first="$line"
    [[ ${line#bench: } == "${first#bench: }" ]] || die "VM $i: '$line' differs from VM 0's '$first'"
  done
  say "static ring of $n VMs (ringcast-bench): every VM ${first#bench: }"
  grep -h 'bench: .*msg/s\|bench: .*MB/s' "$($ctl stdout 0)" | head -n 3 | sed 's/^/scenario:   vm0 /' >&2
}

lines_of() { wc -l <"$($ctl stdout "$1")"; }
# wait_after VM FROM ERE SECS WHAT: the first line after line FROM of VM's
# output matching ERE (what happened before a fault does not count).
wait_after() {
  local out deadline line
  out=$($ctl stdout "$1")
  deadline=$(($(date +%s) + $4))
  while :; do
    line=$(tail -n +$(($2 + 1)) "$out" | grep -E -m1 -- "$3") && break
    [[ $(date +%s) -lt $deadline ]] || die "VM $1: no line matching /$3/ within $4 s ($5)"
    sleep 0.05
  done
  printf '%s\n' "$line"
}

# fault_then_views START_MS WHAT VM:ERE...: waits for each VM's confchg after
# the fault and prints the host-clock delay and the VM's own line.
fault_then_views() {
  local t0=$1 what=$2 spec vm ere line
  shift 2
  for spec in "$@"; do
    vm=${spec%%:*}
    ere=${spec#*:}
    line=$(wait_after "$vm" "${from[vm]}" "$ere" "$reform_s" "$what")
    say "$what: VM $vm confchg seen by the host $(($(now_ms) - t0)) ms after the fault: $line"
  done
}

declare -a from
# wait_delivering VM MEMBERS WHAT: cpg_stream's ticks show deliveries in the
# view; member_stream has none (its final report's count shows them).
wait_delivering() {
  [[ ${CLUSTER_PROGRAM:-member} == cpg ]] || return 0
  wait_after "$1" "${from[$1]}" "^tick members=$2 count=[1-9]" 60 "$3" >/dev/null
}
mark_all() {
  local i
  for i in "$@"; do from[i]=$(lines_of "$i"); done
}

stream_faults() {
  local victim=$((n - 1)) cut=1 t0 surv others vms
  surv=$(seq -s, 1 $((n - 1)))
  mapfile -t vms < <(all_vms)
  mark_all "${vms[@]}"
  t0=$(now_ms)
  $ctl kill "$victim"
  local specs=() i
  for ((i = 0; i < victim; i++)); do specs+=("$i:^view members=$surv left=$n:"); done
  fault_then_views "$t0" "VM $victim killed" "${specs[@]}"
  for ((i = 0; i < victim; i++)); do wait_delivering "$i" "$surv" "the stream goes on after the kill"; done

  others=$(seq 1 $((n - 1)) | grep -vx $((cut + 1)) | paste -sd,)
  mark_all $(seq 0 $((victim - 1)))
  t0=$(now_ms)
  $ctl link "$cut" off
  specs=("$cut:^view members=$((cut + 1)) left=")
  for ((i = 0; i < victim; i++)); do [[ $i -eq $cut ]] || specs+=("$i:^view members=$others left=$((cut + 1)):"); done
  fault_then_views "$t0" "VM $cut unplugged" "${specs[@]}"
  sleep 3 # each side streams on its own
  mark_all $(seq 0 $((victim - 1)))
  t0=$(now_ms)
  $ctl link "$cut" on
  specs=()
  for ((i = 0; i < victim; i++)); do specs+=("$i:^view members=$surv .*joined=[0-9]"); done
  fault_then_views "$t0" "VM $cut plugged back" "${specs[@]}"
  for ((i = 0; i < victim; i++)); do wait_delivering "$i" "$surv" "the stream goes on after the merge"; done
  say "the partition healed: one view $surv again"
}

# Members that go through the same view and on to the same next one must
# have delivered the same messages in it (extended virtual synchrony: those
# that part ways, as a partition's two sides, may differ in the view's tail).
# A view is (members, ring); cpg_stream and member_stream print its count and
# hash when it ends (view_end ... next=) or on request (report ... next=end).
# Prints the table; compare_views MEMBERS NEED: some view of MEMBERS with
# deliveries must have been reported alike by NEED members or more.
compare_views() {
  local files=() i
  for i in $(all_vms); do files+=("$($ctl stdout "$i")"); done
  awk -v want="$1" -v need="$2" '
    FNR == 1 { vm++ }
    ($1 == "view_end" || $1 == "report") && $5 ~ /^ring=/ && $6 ~ /^next=/ {
      m = substr($2, 9); key = m " " substr($5, 6) " -> " substr($6, 6); v = $3 " " $4
      if (!(key in val)) { val[key] = v; who[key] = vm - 1; order[++keys] = key }
      else if (val[key] != v) { printf "  MISMATCH %s: vm%d %s, vm%d %s\n", key, who[key], val[key], vm - 1, v; bad = 1 }
      seen[key] = seen[key] " vm" vm - 1; members[key] = m
    }
    END {
      for (k = 1; k <= keys; k++) {
        key = order[k]
        printf "  %-56s %-32s at%s\n", key, val[key], seen[key]
        if (members[key] == want && val[key] !~ /^count=0 / && split(seen[key], a, " ") >= need) found = 1
      }
      if (!found) { printf "  no view of %s with deliveries reported alike by %d members\n", want, need; bad = 1 }
      exit bad
    }' "${files[@]}" >&2
}

finish_stream() {
  local vms=("$@") i line
  for i in "${vms[@]}"; do
    from[i]=$(lines_of "$i")
    $ctl send "$i" stop
  done
  sleep 3 # what is in flight is delivered everywhere
  # cpg_stream reports on "report"; member_stream once every member's end
  # marker is delivered. Deliveries since the last change are a must.
  for i in "${vms[@]}"; do $ctl send "$i" report; done
  for i in "${vms[@]}"; do
    line=$(wait_after "$i" "${from[i]}" '^report ' 60 "the last view's report")
    [[ $line != *" count=0 "* ]] || die "VM $i delivered nothing in its last view: $line"
  done
  for i in "${vms[@]}"; do $ctl send "$i" exit; done
  for i in "${vms[@]}"; do
    line=$(wait_after "$i" "${from[i]}" '^exit failures=' 60 "cpg_stream exit")
    [[ $line == "exit failures=0 "* ]] || die "VM $i: $line ($(grep -m3 '^error' "$($ctl stdout "$i")" | tr '\n' ' '))"
  done
}

check_stream() {
  local all i survivors=()
  all=$(seq -s, 1 "$n")
  for i in $(all_vms); do
    wait_line "$i" "^view members=$all( |$)" 240 "all $n cpg_stream members in one view" >/dev/null
  done
  say "one view of $n members ($all); streaming"
  sleep 5
  if [[ $faults == 1 ]]; then
    stream_faults
    for ((i = 0; i < n - 1; i++)); do survivors+=("$i"); done
    finish_stream "${survivors[@]}"
    say "views (count hash) and the members that reported them:"
    compare_views "$all" $((n - 1)) || die "members of one view delivered different messages"
  else
    mapfile -t survivors < <(all_vms)
    finish_stream "${survivors[@]}"
    say "views (count hash) and the members that reported them:"
    compare_views "$all" "$n" || die "members of one view delivered different messages"
  fi
}

has_phase lat && check_lat
has_phase bench && check_bench
has_phase stream && check_stream
say "passed"

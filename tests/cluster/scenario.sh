#!/usr/bin/env bash
# tests/cluster/scenario.sh: the host side of the separate-hosts test, run by
# ci/softroce-cluster --control while every VM runs tests/cluster/vm_node.sh.
# Follows the VMs' output, makes the faults and asserts; exits non-zero on the
# first failed check.
#   lat     ib_write_lat between VM 1 and VM 0 gave a figure
#   bench   the static ring of 3 delivered the same count and hash everywhere
#   stream  3 cpg_stream members in one view; then, with CLUSTER_FAULTS=1
#           (default): VM 2's QEMU killed -> the survivors' view of 1,2 (time
#           measured) and the stream goes on; VM 1's link unplugged -> two
#           views of one; plugged back -> one view of two again; finally
#           the views compare (compare_views.awk): members that went through
#           a view and on to the same next one delivered the same in it,
#           members that parted ways delivered prefixes of one sequence;
#           no member saw a bad message.
# Under heavy load (3 emulated CPUs on 2 host cores) a change may take an
# extra reformation (a survivor alone for a moment, then merged): accepted,
# and said, as long as each side ends in the expected view within
# CLUSTER_REFORM_TIMEOUT_S.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ctl=${SOFTROCE_CLUSTER_CTL:?run by ci/softroce-cluster --control}
n=${SOFTROCE_CLUSTER_N:?}
phases=${CLUSTER_PHASES:-lat bench stream}
faults=${CLUSTER_FAULTS:-1}
program=${CLUSTER_PROGRAM:-member}
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

# fault_then_views START_MS WHAT VM:ERE...: waits for each VM's view after
# the fault and prints the host-clock delay and the VM's own line, and the
# views it went through on the way (an extra reformation under load).
fault_then_views() {
  local t0=$1 what=$2 spec vm ere line via
  shift 2
  for spec in "$@"; do
    vm=${spec%%:*}
    ere=${spec#*:}
    line=$(wait_after "$vm" "${from[vm]}" "$ere" "$reform_s" "$what")
    say "$what: VM $vm confchg seen by the host $(($(now_ms) - t0)) ms after the fault: $line"
    via=$(views_before "$vm" "$ere")
    [[ -z $via ]] || say "$what: VM $vm went through view(s) $via first (an extra reformation)"
  done
}

# views_before VM ERE: the members of each view VM installed since from[VM]
# before its first line matching ERE (member_stream's transitional ones,
# after a "ring ... kind=T" line, left out).
views_before() {
  tail -n +$((from[$1] + 1)) "$($ctl stdout "$1")" | awk -v ere="$2" '
    $0 ~ ere { exit }
    /^ring id=/ { transitional = $3 == "kind=T" }
    /^view members=/ && !transitional { printf "%s%s", sep, substr($2, 9); sep = " " }'
}

# cpg_reason VM ERE MUST WHAT: (cpg_stream) one of the confchgs VM printed
# since from[VM], up to its first view matching ERE, matches MUST: the nodes
# that went are in a left list as NODEDOWN, those that came back in a joined
# list as NODEUP (on whatever way VM took to its view).
cpg_reason() {
  [[ $program != member ]] || return 0
  local seen
  seen=$(tail -n +$((from[$1] + 1)) "$($ctl stdout "$1")" |
    awk -v ere="$2" '/^view / { print } $0 ~ ere { exit }')
  grep -Eq -- "$3" <<<"$seen" ||
    die "VM $1: $4: no confchg matching /$3/ (views: $(tr '\n' ';' <<<"$seen"))"
}

declare -a from
# wait_delivering VM MEMBERS WHAT: cpg_stream's ticks show deliveries in the
# view; member_stream has none (its final report's count shows them).
wait_delivering() {
  [[ $program != member ]] || return 0
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
  for ((i = 0; i < victim; i++)); do specs+=("$i:^view members=$surv( |\$)"); done
  fault_then_views "$t0" "VM $victim killed" "${specs[@]}"
  for ((i = 0; i < victim; i++)); do
    cpg_reason "$i" "${specs[i]#*:}" "^view .* left=([0-9]+:[a-z]+,)*$n:nodedown" "VM $victim killed"
  done
  for ((i = 0; i < victim; i++)); do wait_delivering "$i" "$surv" "the stream goes on after the kill"; done

  others=$(seq 1 $((n - 1)) | grep -vx $((cut + 1)) | paste -sd,)
  mark_all $(seq 0 $((victim - 1)))
  t0=$(now_ms)
  $ctl link "$cut" off
  specs=("$cut:^view members=$((cut + 1))( |\$)")
  for ((i = 0; i < victim; i++)); do [[ $i -eq $cut ]] || specs+=("$i:^view members=$others( |\$)"); done
  fault_then_views "$t0" "VM $cut unplugged" "${specs[@]}"
  for ((i = 0; i < victim; i++)); do
    if [[ $i -eq $cut ]]; then
      cpg_reason "$i" "^view members=$((cut + 1))( |\$)" "^view .* left=([0-9]+:[a-z]+,)*1:nodedown" "VM $cut unplugged"
    else
      cpg_reason "$i" "^view members=$others( |\$)" "^view .* left=([0-9]+:[a-z]+,)*$((cut + 1)):nodedown" "VM $cut unplugged"
    fi
  done
  sleep 3 # each side streams on its own
  mark_all $(seq 0 $((victim - 1)))
  t0=$(now_ms)
  $ctl link "$cut" on
  specs=()
  for ((i = 0; i < victim; i++)); do specs+=("$i:^view members=$surv( |\$)"); done
  fault_then_views "$t0" "VM $cut plugged back" "${specs[@]}"
  for ((i = 0; i < victim; i++)); do
    cpg_reason "$i" "^view members=$surv( |\$)" "^view members=$surv .*joined=.*:nodeup" "VM $cut plugged back"
  done
  for ((i = 0; i < victim; i++)); do wait_delivering "$i" "$surv" "the stream goes on after the merge"; done
  say "the partition healed: one view $surv again"
}

# compare_views MEMBERS NEED: every view reported by several members is
# consistent (compare_views.awk: identical where they moved on together, a
# prefix where they parted ways), and some view of MEMBERS with deliveries
# was reported by NEED members or more. Prints the table. A view's count and
# hash come from the view_end and report lines of cpg_stream and
# member_stream, its running hashes from the file each VM writes to its
# share (RINGCAST_VIEW_HASHES, vm_node.sh).
compare_views() {
  local args=() i hashes
  for i in $(all_vms); do
    args+=("vm=$i")
    hashes=${SOFTROCE_CLUSTER_DIR:?}/vm$i/view-hashes
    [[ ! -f $hashes ]] || args+=(kind=hashes "$hashes")
    args+=(kind=out "$($ctl stdout "$i")")
  done
  awk -v want="$1" -v need="$2" -f "$here/compare_views.awk" "${args[@]}" >&2
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

# shellcheck shell=bash
# ci/softroce-cluster ctl ACTION I ...: the commands a control script drives
# the running cluster with ($SOFTROCE_CLUSTER_CTL). Sourced after common.sh;
# the caller sets ci_dir.

ctl_vm_dir() { # ctl_vm_dir I: checks I and prints the VM's share directory
  local dir=${SOFTROCE_CLUSTER_DIR:?ctl runs under ci/softroce-cluster --control}
  [[ $1 =~ ^[0-9]+$ && -d $dir/vm$1 ]] || die 2 "ctl: no VM '$1'"
  printf '%s\n' "$dir/vm$1"
}

# set_link n0 on|off through VM I's QEMU monitor (QMP on a unix socket,
# ci/vm/qmp.py); prints QEMU's error.
ctl_set_link() {
  local up=false
  [[ $2 != on ]] || up=true
  python3 "$ci_dir/vm/qmp.py" "$SOFTROCE_CLUSTER_DIR/vm$1.qmp" set_link "{\"name\": \"n0\", \"up\": $up}"
}

ctl_wait() { # ctl_wait I ERE [SECS]
  local vm out deadline line
  vm=$(ctl_vm_dir "$1")
  out=$vm/stdout
  deadline=$(($(date +%s) + ${3:-60}))
  while :; do
    if line=$(grep -E -m1 -- "$2" "$out" 2>/dev/null); then
      printf '%s\n' "$line"
      return 0
    fi
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.1
  done
}

ctl_main() {
  [[ $# -ge 2 ]] || die 2 "usage: ctl kill|link|send|wait|stdout|status I ..."
  local action=$1 vm pid reply
  vm=$(ctl_vm_dir "$2")
  case $action in
    kill)
      pid=$(cat "$vm.qemu.pid" 2>/dev/null) || die 1 "ctl kill: VM $2 has no QEMU pid"
      touch "$vm/killed"
      kill -KILL "$pid" 2>/dev/null || die 1 "ctl kill: VM $2's QEMU ($pid) is not running"
      say "killed VM $2 (QEMU pid $pid)"
      ;;
    link)
      [[ ${3:-} == on || ${3:-} == off ]] || die 2 "usage: ctl link I on|off"
      reply=$(ctl_set_link "$2" "$3" 2>&1) || die 1 "ctl link: VM $2's QEMU refused set_link: $reply"
      say "VM $2's link is $3"
      ;;
    send) printf '%s\n' "${*:3}" >>"$vm/inbox" ;;
    wait) ctl_wait "$2" "${3:?ctl wait I ERE [SECS]}" "${4:-60}" ;;
    stdout) printf '%s\n' "$vm/stdout" ;;
    status) cat "$vm/status" 2>/dev/null ;;
    *) die 2 "ctl: unknown action '$action'" ;;
  esac
}

# shellcheck shell=bash
# The VMs of ci/softroce-cluster: their shares, booting, waiting for them,
# their results and logs. Sourced after common.sh, image.sh and vm.sh; uses
# the entry script's settings (run, nvm, top, addrs, timeout_s, deadline_s,
# logdir, faildir, net_prefix, host_base, rxe_dev, vm_gid_index) and keeps
# qpids (timeout(1) wrapping each VM's QEMU, by index, "" once reaped) and
# fpids (the output followers).

# save_logs STATUS: the run's consoles, outputs, view hashes and the control
# script's stderr (a failed view check is examined from them) in $logdir; a
# failed run's also in $faildir, which a passing run after it keeps (ctest
# -L hosts runs two clusters in a row).
# shellcheck disable=SC2317 # called from the EXIT trap
save_logs() {
  local i f
  rm -rf "$logdir"
  mkdir -p "$logdir"
  cp "$run/control.log" "$logdir/" 2>/dev/null || true
  for ((i = 0; i < nvm; i++)); do
    clean_console <"$run/vm$i.console" >"$logdir/vm$i.console" 2>/dev/null || true
    cp "$run/vm$i.qemu.err" "$logdir/" 2>/dev/null || true
    for f in stdout stderr dmesg stage error status view-hashes; do
      cp "$run/vm$i/$f" "$logdir/vm$i.$f" 2>/dev/null || true
    done
  done
  [[ $1 -ne 0 ]] || return 0
  rm -rf "$faildir"
  cp -r "$logdir" "$faildir" 2>/dev/null || true
}

stop_vm() { # stop_vm I: ends VM I's QEMU (its timeout(1) process group)
  local p=${qpids[$1]:-}
  [[ -n $p ]] || return 0
  kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
  local t
  for ((t = 0; t < 50; t++)); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  qpids[$1]=""
}

# write_vm_share I: VM I's share: settings, command, inbox, output files.
write_vm_share() {
  local i=$1 d=$run/vm$1 addr=$net_prefix.$((host_base + $1))
  mkdir -p "$d"
  printf 'NODE=%d\nADDR=%s\n' "$i" "$addr" >"$d/vm.conf"
  printf 'rw0 %s\n' "$top" >"$d/rw-mounts"
  cp "$run/argv" "$run/env" "$run/cwd" "$d/"
  write_env_add "$d/env.add" RINGCAST_SOFTROCE=1 "RINGCAST_RDMA_DEVICE=$rxe_dev" \
    "RINGCAST_GID_INDEX=$vm_gid_index" "RINGCAST_NODE_INDEX=$i" "RINGCAST_NODE_ID=$((i + 1))" \
    "RINGCAST_LOCAL_ADDR=$addr" "RINGCAST_RDMA_ADDRS=$addr" "RINGCAST_CLUSTER_ADDRS=$addrs" \
    SOFTROCE_CLUSTER_SHARE=/run/softroce
  : >"$d/stdout"
  : >"$d/stderr"
  : >"$d/inbox"
}

boot_vm() { # boot_vm I
  local i=$1 mac
  mac=$(printf '52:54:00:99:01:%02x' $((host_base + i)))
  vm_qemu_args 1 "$run/vm$i.console" "$run/vm$i" no_timer_check
  timeout -k 5 "$timeout_s" "${qemu_args[@]}" -name "vm$i" -pidfile "$run/vm$i.qemu.pid" \
    -qmp "unix:$run/vm$i.qmp,server=on,wait=off" \
    -netdev "vde,id=n0,sock=$run/switch" -device "virtio-net-pci,netdev=n0,mac=$mac" \
    -virtfs "$(virtfs rw0 "$top")" </dev/null >"$run/vm$i.qemu.err" 2>&1 &
  qpids[i]=$!
  # Not a job: bash would print a "Killed" notice for the VMs that
  # `ctl kill` crashes (timeout(1) dies of its child's signal).
  disown "${qpids[i]}"
  # Output lines, prefixed; follow stops once QEMU has gone.
  follow 0.2 "$run/vm$i/stdout" "${qpids[i]}" "[vm$i] " &
  fpids+=($!)
  follow 0.2 "$run/vm$i/stderr" "${qpids[i]}" "[vm$i] " >&2 &
  fpids+=($!)
  if [[ -n ${SOFTROCE_VERBOSE:-} ]]; then
    follow 0.2 "$run/vm$i.console" "${qpids[i]}" | clean_console | sed -u "s/^/[vm$i console] /" >&2 &
    fpids+=($!)
  fi
}

running() { [[ -n ${qpids[$1]:-} ]] && kill -0 "${qpids[$1]}" 2>/dev/null; }

# wait_all_ready: until every VM is ready (rxe0 ACTIVE); exits 125 when one
# could not set up, 124 at the deadline.
wait_all_ready() {
  local pending=$nvm i stage
  local -A shown=() rebooted=()
  while [[ $pending -gt 0 ]]; do
    pending=0
    for ((i = 0; i < nvm; i++)); do
      stage=$(cat "$run/vm$i/stage" 2>/dev/null) || stage=""
      if [[ $stage == ready ]]; then
        [[ -n ${shown[$i]:-} ]] || say "VM $i ready (rxe0 ACTIVE on $net_prefix.$((host_base + i))) after $(elapsed)"
        shown[$i]=1
        continue
      fi
      pending=$((pending + 1))
      # A kernel that died before /init ran (an emulated CPU starved by a
      # loaded host can fail the kernel's early checks) gets one more boot.
      if [[ -z $stage && -z ${rebooted[$i]:-} ]] && ! running "$i"; then
        rebooted[$i]=1
        say "VM $i died while booting: booting it again ($(clean_console <"$run/vm$i.console" | grep -m1 -i 'panic' || echo "no panic line"))"
        boot_vm "$i"
        continue
      fi
      if [[ -s $run/vm$i/error ]] || ! running "$i"; then
        say "VM $i failed to set up (stage '${stage:-none}'): $(cat "$run/vm$i/error" 2>/dev/null || echo "QEMU exited")"
        clean_console <"$run/vm$i.console" | tail -n 15 | sed 's/^/  /' >&2
        sed 's/^/  qemu: /' "$run/vm$i.qemu.err" >&2
        say "logs: $logdir"
        exit 125
      fi
    done
    [[ $(date +%s) -lt $deadline_s ]] || die 124 "timed out after ${timeout_s}s waiting for the VMs to boot (logs: $logdir)"
    [[ $pending -eq 0 ]] || sleep 0.2
  done
}

# wait_all_down END_S: the VMs power off when their command ends; those
# still running at END_S are stopped and marked overdue (status 124).
wait_all_down() {
  local end_s=$1 left i p
  while :; do
    left=0
    for ((i = 0; i < nvm; i++)); do
      running "$i" || qpids[i]=""
      [[ -z ${qpids[i]} ]] || left=$((left + 1))
    done
    [[ $left -gt 0 && $(date +%s) -lt $end_s ]] || break
    sleep 0.2
  done
  for ((i = 0; i < nvm; i++)); do
    if running "$i"; then
      touch "$run/vm$i.overdue"
      stop_vm "$i"
    fi
  done
  # The followers end with their QEMU, after printing what is left.
  for p in "${fpids[@]}"; do wait "$p" 2>/dev/null || true; done
  fpids=()
}

# vm_status I: says how VM I ended and prints CMD's status there (nothing
# for a VM the control script killed).
vm_status() {
  local i=$1 status
  if [[ -e $run/vm$i/killed ]]; then
    say "VM $i: killed by the control script"
    return 0
  fi
  if [[ -e $run/vm$i.overdue ]]; then
    status=124
    say "VM $i: still running after $(elapsed): stopped (status 124)"
  elif [[ -s $run/vm$i/status ]]; then
    status=$(<"$run/vm$i/status")
    [[ $status =~ ^[0-9]+$ ]] || status=125
    say "VM $i: exit status $status"
  else
    status=125
    say "VM $i: stopped without a status (stage '$(cat "$run/vm$i/stage" 2>/dev/null)')"
  fi
  printf '%s\n' "$status"
}

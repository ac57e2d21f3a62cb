# shellcheck shell=bash
# Booting a VM: what its command gets through the share, and QEMU's command
# line. Sourced after common.sh and image.sh.

# write_cmd_files DIR ARGS...: what CMD needs, NUL-separated, for the guest's
# command wrapper (ci/vm/cmd.sh): its arguments, the caller's environment
# and working directory.
write_cmd_files() {
  local dir=$1 kv
  shift
  printf '%s\0' "$@" >"$dir/argv"
  while IFS= read -r -d '' kv; do
    case ${kv%%=*} in
      # Tied to this shell or to the host's session/terminal.
      _ | OLDPWD | SHELLOPTS | BASHOPTS | DISPLAY | WAYLAND_DISPLAY | XAUTHORITY | \
        DBUS_SESSION_BUS_ADDRESS | SSH_AUTH_SOCK | SSH_AGENT_PID | GPG_AGENT_INFO | \
        TMUX | TMUX_PANE | STY | WINDOWID) continue ;;
    esac
    printf '%s\0' "$kv"
  done < <(env -0) >"$dir/env"
  printf '%s\0' "$PWD" >"$dir/cwd"
}

# write_env_add FILE VAR=VALUE...: the variables set for CMD after (so over)
# the caller's environment.
write_env_add() {
  local file=$1
  shift
  printf '%s\0' "$@" >"$file"
}

# The checkout around the cwd (its git top-level, else the cwd itself),
# shared writable with the VM at the same path.
checkout_top() {
  local top
  top=$(git -C "$PWD" rev-parse --show-toplevel 2>/dev/null) || top=$PWD
  realpath -- "$top"
}

# A 9p share of a host directory (writable unless OPTIONS say readonly).
virtfs() { # virtfs TAG PATH [OPTIONS]
  printf 'local,path=%s,mount_tag=%s,security_model=none%s,multidevs=remap' "$(qesc "$2")" "$1" "${3:+,$3}"
}

# vm_qemu_args SMP CONSOLE SHARE APPEND: sets qemu_args to the command line
# every VM shares: TCG, $vm_mem, the cached kernel and initramfs, the console
# into the file CONSOLE, the host's / read-only and the VM's share SHARE
# (tag softroce). The caller adds its writable shares and devices.
vm_qemu_args() {
  qemu_args=(
    qemu-system-x86_64 -accel tcg -cpu max -m "$vm_mem" -smp "$1"
    -nodefaults -nographic -no-reboot
    -kernel "$kernel_image" -initrd "$kdir/initrd.gz"
    -append "console=ttyS0 quiet loglevel=3 panic=-1 $4"
    -chardev "file,id=con,path=$(qesc "$2")" -serial chardev:con
    -virtfs "$(virtfs hostroot / readonly=on)"
    -virtfs "$(virtfs softroce "$3")"
  )
}

# follow SECS FILE PID [PREFIX]: copies FILE to stdout as it grows (checked
# every SECS; each line prefixed with PREFIX), until the process PID has gone
# and all of FILE is printed.
follow() {
  if [[ -n ${4:-} ]]; then
    tail -q -n +1 -s "$1" -f --pid="$3" "$2" | sed -u "s/^/$4/"
  else
    tail -q -n +1 -s "$1" -f --pid="$3" "$2"
  fi
}

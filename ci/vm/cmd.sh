# shellcheck shell=bash
# Runs CMD inside the VM: `bash cmd.sh PROG` in the chroot of the host's /,
# started by /init. Reads from the share (/run/softroce), NUL-separated:
# argv, env (the caller's environment), cwd, env.add (the runner's variables,
# set over the caller's); optionally nofile (the caller's `ulimit -n`) and
# inbox (lines that become CMD's stdin). Exit status: CMD's, or 125 when it
# cannot be started.
d=/run/softroce
prog=$1
fail() {
  printf '%s\n' "$*" >"$d/error"
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 125
}
mapfile -d '' -t argv <"$d/argv" || fail "cannot read the command"
mapfile -d '' -t envv <"$d/env" || fail "cannot read the environment"
mapfile -d '' -t add <"$d/env.add" || fail "cannot read the runner's variables"
IFS= read -r -d '' cwd <"$d/cwd"
cd -- "$cwd" || fail "cannot enter $cwd inside the VM"
ulimit -l unlimited
[[ ! -f $d/nofile ]] || ulimit -n "$(cat "$d/nofile")" 2>/dev/null
# TMPDIR and XDG_RUNTIME_DIR may point into the VM's fresh tmpfs; a TMPDIR
# on the read-only root is replaced by /tmp.
for kv in "${envv[@]}"; do
  # shellcheck disable=SC2174 # only the directory itself is private
  case $kv in
    TMPDIR=?* | XDG_RUNTIME_DIR=?*) mkdir -p -m 700 -- "${kv#*=}" 2>/dev/null ;;
  esac
  case $kv in
    TMPDIR=?*) [ -w "${kv#*=}" ] || envv+=(TMPDIR=/tmp) ;;
  esac
done
# The inbox is CMD's stdin. Polled: the guest sees no inotify events for
# what the host writes into a 9p share (tail -f would wait forever).
follow_inbox() {
  local seen=0 lines
  while :; do
    mapfile -t -s "$seen" lines <"$d/inbox"
    [ ${#lines[@]} -eq 0 ] || printf '%s\n' "${lines[@]}" || exit 0
    seen=$((seen + ${#lines[@]}))
    sleep 0.1
  done
}
[[ ! -f $d/inbox ]] || exec < <(follow_inbox 2>/dev/null)
exec env -i -- "${envv[@]}" "${add[@]}" "${argv[@]}"

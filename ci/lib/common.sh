# shellcheck shell=bash
# Helpers every soft-RoCE VM script uses (sourced; the caller sets `prog`).

say() { printf '%s: %s\n' "$prog" "$*" >&2; }
die() { # die STATUS MESSAGE...
  local rc=$1
  shift
  say "$*"
  exit "$rc"
}

# Finds a program also in the sbin directories (not in a user's PATH).
find_prog() {
  local p
  for p in "$1" "/usr/sbin/$1" "/sbin/$1"; do
    if command -v "$p" >/dev/null 2>&1; then
      command -v "$p"
      return 0
    fi
  done
  return 1
}

need() { # need PROGRAM PACKAGE
  find_prog "$1" >/dev/null ||
    die 2 "'$1' not found: install the Debian package '$2' (or run ci/install-deps)"
}

# Checks the host programs that preparing and booting a VM take; sets
# busybox, depmod and modprobe to their paths.
need_vm_tools() {
  need qemu-system-x86_64 qemu-system-x86
  need cpio cpio
  need gzip gzip
  need depmod kmod
  need modprobe kmod
  need flock util-linux
  need timeout coreutils
  need sed sed
  need awk mawk
  need dpkg-deb dpkg
  busybox=$(find_prog busybox) || die 2 "busybox not found: install the Debian package 'busybox-static' (or run ci/install-deps)"
  # The initramfs has no C library: busybox must be the static build.
  if ldd "$busybox" >/dev/null 2>&1; then
    die 2 "$busybox is dynamically linked: install the Debian package 'busybox-static' (or run ci/install-deps)"
  fi
  depmod=$(find_prog depmod)
  modprobe=$(find_prog modprobe)
}

# check_vm_knobs DEFAULT_MEM: SOFTROCE_TIMEOUT and SOFTROCE_MEM into
# timeout_s and vm_mem (the default timeout is the caller's).
check_vm_knobs() {
  vm_mem=${SOFTROCE_MEM:-$1}
  [[ $timeout_s =~ ^[0-9]+$ && $timeout_s -gt 0 ]] || die 2 "SOFTROCE_TIMEOUT must be a positive number of seconds, not '$timeout_s'"
  [[ $vm_mem =~ ^[0-9]+[MGmg]?$ ]] || die 2 "SOFTROCE_MEM must look like $1 or 4G, not '$vm_mem'"
  mem_shown=$vm_mem
  [[ ! $vm_mem =~ ^[0-9]+$ ]] || mem_shown="$vm_mem MiB"
}

# A per-run directory under TMPDIR (or /tmp when TMPDIR is not writable).
make_run_dir() { # make_run_dir NAME: prints its path
  local base=${TMPDIR:-/tmp}
  [[ -d $base && -w $base ]] || base=/tmp
  mktemp -d "$base/$1.XXXXXX"
}

# The serial console carries \r\n line ends and the firmware's terminal escapes.
clean_console() {
  sed -u -e 's/\r$//' -e 's#\x1b\[[0-9;?]*[ -/]*[@-~]##g' -e 's#\x1b[()][0-9A-Za-z]##g' -e 's#\x1b[c78=>]##g'
}

# QEMU option values: a comma is written as two.
qesc() { printf '%s' "${1//,/,,}"; }

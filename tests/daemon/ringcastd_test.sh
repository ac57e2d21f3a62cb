#!/usr/bin/env bash
# ringcastd as a process, without RDMA:
#   ringcastd_test.sh process RINGCASTD CFGTOOL
#                                         each way ringcastd refuses to start: its
#                                         exit status and the line that says why;
#                                         ringcast-cfgtool -s with and without a daemon
#   ringcastd_test.sh install BUILD       cmake --install into a scratch prefix:
#                                         sbin/ringcastd and ringcast-cfgtool, the
#                                         units naming the binary, and
#                                         systemd-analyze verify clean on each
set -euo pipefail
mode=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect STATUS TEXT -- COMMAND...: the command exits with STATUS and its
# output (stdout and stderr) holds TEXT.
expect() {
  local want=$1 text=$2 status=0 out
  shift 3
  out=$("$@" 2>&1) || status=$?
  if [ "$status" -ne "$want" ]; then
    fail "$* exited $status, not $want: $out"
  elif ! grep -qF -- "$text" <<<"$out"; then
    fail "$* said '$out', without '$text'"
  else
    echo "ok: $* -> $status: $(head -1 <<<"$out")"
  fi
}

# A one-node cluster file; $1: extra sections, $2: the node's address.
cluster_file() {
  cat <<CONF
$1
system {
  run_dir: $scratch/run
  state_dir: $scratch/state
}
auth {
  allow_unauthenticated: yes
}
nodelist {
  node {
    nodeid: 1
    address: ${2:-127.0.0.1}
  }
}
CONF
}

process() {
  local bin=$1 conf=$scratch/ringcast.conf
  expect 0 "usage: ringcastd [-f] [-c FILE] [-n NODEID] [-h] [-v]" -- "$bin" -h
  expect 0 "ringcastd " -- "$bin" -v
  expect 2 "ringcastd: unknown option -x" -- "$bin" -x
  expect 2 "usage: ringcastd" -- "$bin" -f -c
  expect 3 "ringcastd: error: $scratch/none.conf: cannot open" -- "$bin" -f -c "$scratch/none.conf"
  RINGCAST_CONFIG=$scratch/none.conf expect 3 "error: $scratch/none.conf" -- "$bin" -f
  printf 'totem {\n  token: 5\n}\n' >"$scratch/bad.conf"
  expect 3 "error: $scratch/bad.conf:2:3: unknown key 'token'" -- "$bin" -f -c "$scratch/bad.conf"
  cluster_file "" >"$conf"
  expect 3 "error: $conf: -n 9 is not in the nodelist (nodes: 1)" -- "$bin" -f -c "$conf" -n 9
  RINGCAST_NODE_ID=9 expect 3 "RINGCAST_NODE_ID=9 is not in the nodelist" -- "$bin" -f -c "$conf"
  cluster_file "" 203.0.113.77 >"$scratch/elsewhere.conf"
  expect 3 "no node of the nodelist has an address of this host" -- \
    "$bin" -f -c "$scratch/elsewhere.conf"
  # No device of that name, on any host: the ring member cannot open.
  cluster_file "rdma {
  device: ringcast-no-such-device
}" >"$conf"
  expect 1 "error: node 1 does not start (exit status 1): " -- "$bin" -f -c "$conf"
  # In the background, the command still returns the daemon's status, and
  # says why on its stderr before the daemon lets go of it.
  expect 1 "error: node 1 does not start (exit status 1): " -- "$bin" -c "$conf"
  # The lock is taken before the device is opened: a held lock wins.
  mkdir -p "$scratch/run"
  expect 4 "error: node 1 cannot start: another ringcastd runs this node" -- \
    flock "$scratch/run/ringcastd-1.lock" "$bin" -f -c "$conf"
  expect 4 "it holds $scratch/run/ringcastd-1.lock" -- \
    flock "$scratch/run/ringcastd-1.lock" "$bin" -c "$conf"
}

# ringcast-cfgtool reads the daemon's status file; the pid in it must run.
cfgtool() {
  local tool=$1 conf=$scratch/ringcast.conf status=$scratch/run/ringcastd-1.status dead
  cluster_file "" >"$conf"
  expect 0 "usage: ringcast-cfgtool" -- "$tool" -h
  expect 2 "unexpected argument '-x'" -- "$tool" -x
  expect 3 "ringcast-cfgtool: $scratch/none.conf: cannot open" -- "$tool" -s -c "$scratch/none.conf"
  expect 1 "no ringcastd of node 1 is in a ring ($status does not exist)" -- "$tool" -s -c "$conf"
  mkdir -p "$scratch/run"
  printf 'node 1\npid %s\naddress 127.0.0.1\nring 1 5\noperational 1\nmembers 1\ncounter reformations 0\n' \
    $$ >"$status"
  expect 0 "Ring ID 1:5, operational, members 1" -- "$tool" -s -c "$conf"
  RINGCAST_CONFIG=$conf expect 0 "		nodeid:  1:	localhost" -- "$tool"
  sh -c 'exit 0' &
  dead=$!
  wait "$dead"
  sed -i "s/^pid .*/pid $dead/" "$status"
  expect 1 "was left by a daemon that is gone" -- "$tool" -s -c "$conf"
}

install() {
  local build=$1 prefix=$scratch/prefix units unit out
  command -v systemd-analyze >/dev/null || { fail "systemd-analyze is missing: run ci/install-deps"; return; }
  cmake --install "$build" --prefix "$prefix" >/dev/null
  [ -x "$prefix/sbin/ringcastd" ] || fail "sbin/ringcastd was not installed"
  [ -x "$prefix/sbin/ringcast-cfgtool" ] || fail "sbin/ringcast-cfgtool was not installed"
  [ -x "$prefix/sbin/ringcast-cpgtool" ] || fail "sbin/ringcast-cpgtool was not installed"
  units=$prefix/lib/systemd/system
  [ -f "$units/ringcastd.service" ] || { fail "ringcastd.service was not installed"; return; }
  [ -f "$units/ringcastd@.service" ] || { fail "ringcastd@.service was not installed"; return; }
  grep -qx "ExecStart=$prefix/sbin/ringcastd -f \$RINGCASTD_OPTIONS" "$units/ringcastd.service" ||
    fail "the unit does not run the installed binary: $(grep ExecStart "$units/ringcastd.service")"
  grep -qx "ExecStart=$prefix/sbin/ringcastd -f -n %i \$RINGCASTD_OPTIONS" "$units/ringcastd@.service" ||
    fail "the template does not run the installed binary for its node"
  # The template is checked as an instance (node 2), as systemd runs it.
  ln -s ringcastd@.service "$units/ringcastd@2.service"
  for unit in ringcastd.service ringcastd@2.service; do
    grep -qx "Type=notify" "$units/$unit" || fail "$unit is not Type=notify"
    # verify also runs man for each Documentation= page: ours, from the prefix.
    out=$(MANPATH="$prefix/share/man" systemd-analyze verify "$units/$unit" 2>&1) ||
      fail "systemd-analyze verify $unit: $out"
    # It reports a bad line and goes on with status 0: any output is a failure.
    [ -z "$out" ] || fail "systemd-analyze verify $unit said: $out"
    echo "ok: $units/$unit verifies clean"
  done
}

case $mode in
  process)
    process "$2"
    cfgtool "$3"
    ;;
  install) install "$2" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
[ "$failures" -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }

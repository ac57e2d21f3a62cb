#!/usr/bin/env bash
# The manual pages under man/:
#   man_pages_test.sh lint SOURCE          mandoc -Tlint -Wwarning: no message at all
#   man_pages_test.sh cover SOURCE         a section 3 page per function of cpg.h, quorum.h
#                                          and for cs_strerror, named as the function, no page
#                                          for a function that does not exist; every key of
#                                          docs/configuration.md in ringcast.conf(5), every
#                                          long option of ringcast-bench in its page
#   man_pages_test.sh install SOURCE BUILD `cmake --install` into a scratch prefix, then
#                                          man finds and renders pages from it alone
set -euo pipefail
mode=$1
source=$2
pages=("$source"/man/man[1-8]/*.[1-8])

lint() {
  command -v mandoc >/dev/null || { echo "mandoc is missing: run ci/install-deps" >&2; exit 1; }
  local out
  out=$(mandoc -Tlint -Wwarning "${pages[@]}" 2>&1) || true
  if [ -n "$out" ]; then
    echo "$out" >&2
    exit 1
  fi
  echo "${#pages[@]} pages lint clean"
}

# Prototypes start a line: "cs_error_t cpg_join(" (as libringcast_exports_test.sh reads them).
functions() {
  { grep -ohE '^cs_error_t ?(cpg|quorum)_[a-z_]+\(' "$source/api/include/ringcast/cpg.h" \
      "$source/api/include/ringcast/quorum.h" | sed -E 's/^cs_error_t ?//; s/\($//'
    echo cs_strerror; } | sort -u
}

cover() {
  local status=0 name page want have
  want=$(functions)
  [ "$(echo "$want" | wc -l)" -ge 20 ] || { echo "found too few functions in cpg.h" >&2; exit 1; }
  for name in $want; do
    page="$source/man/man3/$name.3"
    if [ ! -f "$page" ]; then
      echo "no man page for $name: add man/man3/$name.3" >&2
      status=1
    elif ! grep -qx "\.Nm $name" "$page" || ! grep -qE "^\.(Fn|Fo) $name( |$)" "$page"; then
      echo "man/man3/$name.3 does not name and declare $name (.Nm, .Fn or .Fo)" >&2
      status=1
    fi
  done
  have=$(for page in "$source"/man/man3/*.3; do basename "$page" .3; done |
    grep -vE '^(cpg|quorum)_overview$')
  for name in $(comm -13 <(echo "$want") <(echo "$have" | sort)); do
    echo "man/man3/$name.3 documents a function that cpg.h and quorum.h do not declare" >&2
    status=1
  done
  echo "$(echo "$want" | wc -l) functions, $(echo "$have" | wc -l) function pages"
  # Every key of docs/configuration.md's tables, every long option of the benchmark.
  for name in $(grep -oE '^\| `[a-z_0-9]+` \|' "$source/docs/configuration.md" | tr -d '|` ' | sort -u); do
    grep -qE "^\.It Cm $name( |$)" "$source/man/man5/ringcast.conf.5" ||
      { echo "ringcast.conf.5 does not describe the key $name" >&2; status=1; }
  done
  for name in $(grep -oE '\{"[a-z-]+", [01], nullptr' "$source/bench/ringcast-bench.cpp" | cut -d'"' -f2); do
    grep -qE "Fl -$name( |$)" "$source/man/man1/ringcast-bench.1" ||
      { echo "ringcast-bench.1 does not describe --$name" >&2; status=1; }
  done
  exit $status
}

install_and_read() {
  local build=$1 name path text n
  command -v man >/dev/null || { echo "man is missing: run ci/install-deps" >&2; exit 1; }
  prefix=$(mktemp -d) # global: the EXIT trap runs after this function returned
  trap 'rm -rf "$prefix"' EXIT
  cmake --install "$build" --prefix "$prefix" >/dev/null
  for name in cpg_zcb_alloc cpg_overview quorum_overview quorum_getquorate cs_strerror \
    ringcast.conf ringcast-bench ringcastd ringcast-cfgtool ringcast-cpgtool; do
    # MANPATH alone: the system's corosync pages must not answer for ours.
    path=$(MANPATH="$prefix/share/man" man -w "$name")
    case $path in
      "$prefix"/*) ;;
      *) echo "man -w $name found '$path', not a page under $prefix" >&2; exit 1 ;;
    esac
    text=$(MANPATH="$prefix/share/man" MANWIDTH=80 MAN_KEEP_FORMATTING= man -P cat "$name" 2>&1)
    grep -q 'ringcast' <<<"$text" || { echo "man $name rendered no ringcast text:" >&2; echo "$text" >&2; exit 1; }
  done
  n=$(find "$prefix/share/man" -name '*.[1-8]' | wc -l)
  [ "$n" -eq "${#pages[@]}" ] || { echo "installed $n pages of ${#pages[@]}" >&2; exit 1; }
  echo "$n pages installed; man finds and renders them from $prefix"
}

case $mode in
  lint) lint ;;
  cover) cover ;;
  install) install_and_read "$3" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac

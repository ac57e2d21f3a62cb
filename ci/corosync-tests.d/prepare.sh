# shellcheck shell=bash
# Host side of ci/corosync-tests: the source package and the builds.
# Sourced; uses $root, $build, $work, say, die.

# Debian's corosync source package, downloaded once into $work/download with
# an apt configuration of our own (only a deb-src entry), then extracted with
# Debian's patches applied into $work/src.
prepare_source() {
  local dl=$work/download apt=$work/apt dsc
  dsc=$(find_dsc "$dl")
  if [[ -z $dsc ]]; then
    say "downloading Debian's corosync source package"
    write_apt_config "$apt"
    mkdir -p "$dl"
    APT_CONFIG=$apt/apt.conf apt-get -q update >"$apt/update.log" 2>&1 ||
      die "apt-get update with the deb-src entry failed (see $apt/update.log)"
    # The orig tarball's .asc answers 404 and apt-get exits non-zero while
    # the files themselves arrive: the files decide.
    (cd "$dl" && APT_CONFIG=$apt/apt.conf apt-get -q source --download-only corosync) \
      >"$apt/source.log" 2>&1 || true
    dsc=$(find_dsc "$dl")
    [[ -n $dsc ]] || die "no corosync .dsc with its tarballs in $dl (see $apt/source.log)"
  fi
  local version=${dsc##*/corosync_}
  version=${version%.dsc}
  if [[ ! -f $work/src/.complete || $(<"$work/src/.complete") != "$version" ]]; then
    rm -rf "$work/src"
    extract_source "$dsc" "$work/src"
    printf '%s\n' "$version" >"$work/src/.complete"
  fi
  say "corosync $version source in $work/src"
}

# Prints the .dsc in $1 when every file it lists is there with its MD5 sum
# (the upstream signature, *.asc, aside: the mirror does not serve it).
find_dsc() {
  local dsc md5 f
  for dsc in "$1"/corosync_*.dsc; do
    [[ -f $dsc ]] || continue
    while read -r md5 f; do
      [[ $f != *.asc ]] || continue
      [[ $(md5sum <"$1/$f" 2>/dev/null) == "$md5  -" ]] || continue 2
    done < <(awk '/^Files:/ { on = 1; next } /^[^ ]/ { on = 0 } on && NF == 3 { print $1, $3 }' "$dsc")
    printf '%s\n' "$dsc"
    return 0
  done
}

write_apt_config() {
  local apt=$1
  mkdir -p "$apt/sources" "$apt/lists/partial" "$apt/cache/archives/partial"
  cat >"$apt/sources/src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  cat >"$apt/apt.conf" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt/sources";
Dir::State::Lists "$apt/lists";
Dir::Cache "$apt/cache";
EOF
}

# dpkg-source applies Debian's patches; without it, the orig tarball alone.
extract_source() {
  local dsc=$1 dest=$2 tmp
  tmp=$(mktemp -d "$work/.x.XXXXXX")
  if command -v dpkg-source >/dev/null 2>&1; then
    (cd "$tmp" && dpkg-source --no-check -x "$dsc" corosync >"$tmp/log" 2>&1) ||
      die "dpkg-source -x $dsc failed: $(tail -n 3 "$tmp/log")"
  else
    mkdir -p "$tmp/corosync"
    tar -xzf "${dsc%/*}"/corosync_*.orig.tar.gz -C "$tmp/corosync" --strip-components=1
  fi
  [[ -d $tmp/corosync/test ]] || die "the corosync source has no test/ folder"
  mv "$tmp/corosync" "$dest"
  rm -rf "$tmp"
}

# Libraries each program needs for itself (test/Makefile.am: LIBQB_LIBS,
# -lz for the CRC checkers; cpgbench and cpghum start a dispatch thread).
program_libs() {
  case $1 in
    cpgverify | cpghum) echo "-lqb -lz -lpthread" ;;
    *) echo "-lqb -lpthread" ;;
  esac
}

# Builds libringcast (and in daemon mode ringcastd and ringcast-cfgtool)
# when missing, the call observer and each program into $work/bin; a
# program's build result is $work/bin/NAME.build ("ok" or the first error
# line) and its compiler output $work/logs/NAME/build.log.
build_programs() {
  local targets=(ringcast)
  [[ $mode != daemon ]] || targets+=(ringcastd ringcast-cfgtool)
  if [[ ! -e $build/libringcast.so || $mode == daemon && (! -x $build/api/daemon/ringcastd ||
    ! -x $build/api/daemon/ringcast-cfgtool) ]]; then
    [[ -f $build/CMakeCache.txt ]] ||
      cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" --target "${targets[@]}" >/dev/null
  fi
  local stub=$work/stub bin=$work/bin p log
  mkdir -p "$stub" "$bin"
  echo "/* Stands for corosync's generated config.h: the test programs need none of it. */" \
    >"$stub/config.h"
  cc -O2 -Wall -Wextra -Werror -fPIC -shared -I "$root/api/compat" \
    -o "$bin/cpg_calls.so" "$root/ci/corosync-tests.d/cpg_calls.c" -ldl
  cc -O2 -Wall -Wextra -Werror -fPIC -shared \
    -o "$bin/alarm_scale.so" "$root/ci/corosync-tests.d/alarm_scale.c"
  for p in "$@"; do
    log=$work/logs/$p/build.log
    mkdir -p "${log%/*}"
    rm -f "$bin/$p"
    # shellcheck disable=SC2046 # the library list is words
    if cc -O2 -g -I "$stub" -I "$root/api/compat" -o "$bin/$p" "$work/src/test/$p.c" \
      -L "$build" -Wl,-rpath,"$build" -lringcast $(program_libs "$p") >"$log" 2>&1; then
      echo ok >"$bin/$p.build"
    else
      build_reason "$log" >"$bin/$p.build"
    fi
  done
}

# The first compiler error without its directory, and the CS_* names the
# errors are about (names api/compat lacks show up there).
build_reason() {
  local first names
  first=$(grep -m1 -E 'error' "$1" | sed 's#^[^ :]*/##') || first="the compiler failed"
  names=$(grep -E 'error' "$1" | grep -oE "[‘'\"]CS_[A-Z_0-9]+" | tr -d "‘'\"" | sort -u | paste -sd' ')
  printf '%s%s\n' "$first" "${names:+ (names missing from api/compat: $names)}"
}

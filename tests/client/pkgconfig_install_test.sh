#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds the corosync-style C
# program the way a user would: `cc prog.c $(pkg-config --cflags --libs
# ringcast)` with <corosync/cpg.h> (and <corosync/quorum.h>) coming from the
# installed compat directory, and runs it against the installed libringcast.so.
#
#   pkgconfig_install_test.sh <build dir> <source dir>
# USER_FLAGS: extra compiler flags (the sanitizer build passes its -fsanitize);
# CC, CXX: the compilers (default cc and c++; the sanitizer build passes its own).
set -euo pipefail
build=$1
source=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name ringcast.pc -print -quit)
[ -n "$pc" ] || { echo "ringcast.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
flags=(--define-variable=prefix="$prefix")
cflags=$(pkg-config "${flags[@]}" --cflags ringcast)
libs=$(pkg-config "${flags[@]}" --libs ringcast)
echo "cflags: $cflags"
echo "libs:   $libs"
[ -f "$prefix/include/ringcast/compat/corosync/cpg.h" ] || { echo "compat cpg.h missing" >&2; exit 1; }

# shellcheck disable=SC2086
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic-errors ${USER_FLAGS:-} $cflags "$source/tests/client/cpg_compat.c" \
  $libs -o "$prefix/cpg_compat"
libdir=$(pkg-config "${flags[@]}" --variable=libdir ringcast)
LD_LIBRARY_PATH=$libdir "$prefix/cpg_compat"

# <corosync/quorum.h> the same way: the quorum program's checks that need no
# cluster (bad handles and arguments).
[ -f "$prefix/include/ringcast/compat/corosync/quorum.h" ] || { echo "compat quorum.h missing" >&2; exit 1; }
# shellcheck disable=SC2086
"${CC:-cc}" -std=c99 -Wall -Wextra -Werror -pedantic-errors ${USER_FLAGS:-} $cflags -DQUORUM_COMPAT_MAIN \
  "$source/tests/client/quorum_compat.c" $libs -o "$prefix/quorum_compat"
LD_LIBRARY_PATH=$libdir "$prefix/quorum_compat"

# The native spelling works from the same flags, in C++ too.
printf '#include <ringcast/cpg.h>\n#include <ringcast/version.h>\n#include <cstdio>\nint main() { std::printf("%%s %%s\\n", ringcast_version(), cs_strerror(CS_OK)); }\n' \
  >"$prefix/native.cpp"
# shellcheck disable=SC2086
"${CXX:-c++}" -std=c++17 -Wall -Wextra -Werror ${USER_FLAGS:-} $cflags "$prefix/native.cpp" $libs -o "$prefix/native"
LD_LIBRARY_PATH=$libdir "$prefix/native"

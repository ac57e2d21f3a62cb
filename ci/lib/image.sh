# shellcheck shell=bash
# The VM image, prepared once and cached: Debian's kernel (the .deb is
# downloaded with apt-get, kept in $cache/debs and shared by every image), an
# uncompressed vmlinux when the kernel can boot through PVH, and an initramfs
# of static busybox, the modules and ci/vm's /init. Sourced after common.sh;
# need_vm_tools must have run.

home=~ # $HOME, or the passwd entry when HOME is unset
cache=${XDG_CACHE_HOME:-$home/.cache}/ringcast/softroce

# The image's key: the entry script (its module list, its settings) and
# every file of ci/lib and ci/vm, so editing any of them builds a new image.
image_hash() {
  local f
  for f in "$self" "$ci_dir"/lib/* "$ci_dir"/vm/*; do
    [[ ! -f $f ]] || cat -- "$f"
  done | sha256sum | cut -c1-12
}

# The kernel package: what linux-image-amd64 depends on (plain -amd64
# flavour: -cloud-amd64 has no rdma_rxe).
resolve_kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 ~ /Depends:$/ && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

# Without apt lists (e.g. a cleaned CI image): the newest complete image of
# this key, else the newest kept kernel package. Prints the release.
cached_kernel_rel() { # cached_kernel_rel DIR_PREFIX HASH
  local d newest="" rel
  for d in "$cache/$1"*-amd64-"$2"; do
    [[ -f $d/.complete ]] || continue
    [[ -n $newest && $newest -nt $d ]] || newest=$d
  done
  if [[ -n $newest ]]; then
    rel=${newest##*/}
    rel=${rel#"$1"}
    printf '%s\n' "${rel%-"$2"}"
    return 0
  fi
  rel=$(find "$cache/debs" -maxdepth 1 -name 'linux-image-*-amd64_*.deb' -printf '%T@ %f\n' 2>/dev/null |
    sort -rn | awk 'NR == 1 { sub(/_.*/, "", $2); sub(/^linux-image-/, "", $2); print $2 }')
  [[ -n $rel ]] && printf '%s\n' "$rel"
}

# resolve_kernel DIR_PREFIX: sets kernel_rel (SOFTROCE_KERNEL_DEB,
# SOFTROCE_KERNEL, apt, or the cache) and kdir, the image's directory.
resolve_kernel() {
  local prefix=$1 hash kpkg
  mkdir -p "$cache/debs"
  hash=$(image_hash)
  kernel_rel=""
  if [[ -n ${SOFTROCE_KERNEL_DEB:-} ]]; then
    [[ -r $SOFTROCE_KERNEL_DEB ]] || die 2 "SOFTROCE_KERNEL_DEB=$SOFTROCE_KERNEL_DEB: no such file"
    kpkg=$(dpkg-deb -f "$SOFTROCE_KERNEL_DEB" Package) || die 2 "SOFTROCE_KERNEL_DEB=$SOFTROCE_KERNEL_DEB is not a .deb"
    kernel_rel=${kpkg#linux-image-}
  elif [[ -n ${SOFTROCE_KERNEL:-} ]]; then
    kernel_rel=${SOFTROCE_KERNEL#linux-image-}
  elif kpkg=$(resolve_kernel_pkg) && [[ -n $kpkg ]]; then
    kernel_rel=${kpkg#linux-image-}
  else
    kernel_rel=$(cached_kernel_rel "$prefix" "$hash") ||
      die 2 "cannot find the kernel package: 'apt-cache depends linux-image-amd64' names none. Run 'apt-get update' (ci/install-deps does), or set SOFTROCE_KERNEL_DEB to a linux-image-*-amd64 .deb"
  fi
  [[ $kernel_rel == *-amd64 && $kernel_rel != *cloud* ]] ||
    die 2 "kernel '$kernel_rel' is not a plain -amd64 flavour (the -cloud-amd64 kernel has no rdma_rxe)"
  kdir=$cache/$prefix$kernel_rel-$hash
}

# Downloads the kernel .deb (kept in the cache) and prints its path.
fetch_kernel_deb() {
  local pkg=linux-image-$kernel_rel f dl attempt
  if [[ -n ${SOFTROCE_KERNEL_DEB:-} ]]; then
    printf '%s\n' "$SOFTROCE_KERNEL_DEB"
    return 0
  fi
  for f in "$cache/debs/${pkg}"_*.deb; do
    if [[ -f $f ]]; then
      printf '%s\n' "$f"
      return 0
    fi
  done
  command -v apt-get >/dev/null 2>&1 || die 2 "apt-get not found: cannot download $pkg (set SOFTROCE_KERNEL_DEB)"
  dl=$(mktemp -d "$cache/debs/.dl.XXXXXX")
  chmod 755 "$dl"
  local -a apt_opts=(-q)
  [[ $(id -u) -ne 0 ]] || apt_opts+=(-o APT::Sandbox::User=root)
  for attempt in 1 2; do
    if (cd "$dl" && timeout 900 apt-get download "${apt_opts[@]}" "$pkg" >"$dl/log" 2>&1); then
      break
    fi
    if [[ $attempt -eq 1 && $(id -u) -eq 0 ]]; then
      say "apt-get download $pkg failed; refreshing the package lists and retrying"
      timeout 900 apt-get update -qq >/dev/null 2>&1 || true
      continue
    fi
    sed 's/^/  /' "$dl/log" >&2
    rm -rf "$dl"
    die 2 "could not download $pkg with apt-get download (is the Debian mirror reachable? try 'apt-get update' or ci/install-deps)"
  done
  for f in "$dl"/*.deb; do
    mv "$f" "$cache/debs/"
    printf '%s\n' "$cache/debs/${f##*/}"
  done
  rm -rf "$dl"
}

# extract_vmlinux BZIMAGE OUT: finds the compressed kernel inside a bzImage
# (as the kernel's scripts/extract-vmlinux does) and writes the ELF.
extract_vmlinux() {
  local magic tool off
  for magic in '\xfd7zXZ\x00:xz' '\x28\xb5\x2f\xfd:zstd' '\x1f\x8b\x08:gzip'; do
    tool=${magic##*:}
    command -v "$tool" >/dev/null 2>&1 || continue
    for off in $(LC_ALL=C grep -obUaP "${magic%:*}" "$1" 2>/dev/null | cut -d: -f1 | head -n 3); do
      tail -c +$((off + 1)) "$1" | "$tool" -dc >"$2" 2>/dev/null || true
      if [[ $(head -c 4 "$2" 2>/dev/null | od -An -tx1 | tr -d ' ') == 7f454c46 ]]; then
        return 0
      fi
    done
  done
  return 1
}

# copy_modules TREE OUT MODULES...: the modules and their dependencies,
# uncompressed, in OUT, and OUT/load-order (each after its dependencies, once).
copy_modules() {
  local x=$1 out=$2 m line f name
  shift 2
  : >"$out/load-order"
  for m in "$@"; do
    "$modprobe" -C /dev/null -d "$x" -S "$kernel_rel" --show-depends "$m" >"$out/.deps" 2>&1 ||
      die 2 "module $m not found in $kernel_rel: $(cat "$out/.deps")"
    while read -r line; do
      [[ $line == insmod\ * ]] || continue # builtin
      f=${line#insmod }
      f=${f%% *}
      name=${f##*/}
      case $name in
        *.ko) cp "$f" "$out/$name" ;;
        *.ko.xz) name=${name%.xz} && xz -dc "$f" >"$out/$name" ;;
        *.ko.zst) name=${name%.zst} && zstd -qdc "$f" >"$out/$name" ;;
        *.ko.gz) name=${name%.gz} && gzip -dc "$f" >"$out/$name" ;;
        *) die 2 "unexpected module file $f" ;;
      esac
      grep -qxF "$name" "$out/load-order" || printf '%s\n' "$name" >>"$out/load-order"
    done <"$out/.deps"
  done
  rm -f "$out/.deps"
}

# The kernel of the .deb in OUT: vmlinux when it has a PVH entry point
# (QEMU boots it directly: under emulation that saves the ~5 s the kernel
# takes to decompress itself), else vmlinuz.
copy_kernel() { # copy_kernel TREE OUT
  cp "$1/boot/vmlinuz-$kernel_rel" "$2/vmlinuz"
  if grep -qx 'CONFIG_PVH=y' "$1/boot/config-$kernel_rel" 2>/dev/null &&
    extract_vmlinux "$2/vmlinuz" "$2/vmlinux"; then
    rm -f "$2/vmlinuz"
  else
    rm -f "$2/vmlinux"
  fi
}

# fill_initramfs ROOT ROLE: static busybox, ci/vm/init as /init, the role file
# (what differs between the single VM and a cluster's) and the command
# wrapper in /etc/softroce; the modules are already in ROOT/lib/modules.
fill_initramfs() {
  local root=$1 role=$2 m
  mkdir -p "$root"/{bin,dev,proc,sys,host,share,etc/softroce}
  cp "$busybox" "$root/bin/busybox"
  for m in $("$busybox" --list); do
    [[ $m == busybox ]] || ln -s busybox "$root/bin/$m"
  done
  install -m 755 "$ci_dir/vm/init" "$root/init"
  cp "$ci_dir/vm/$role" "$root/etc/softroce/role.sh"
  cp "$ci_dir/vm/cmd.sh" "$root/etc/softroce/cmd.sh"
}

# build_vm_image ROLE CONF MODULES...: builds $kdir (kernel, modules,
# initrd.gz); CONF (shell assignments) becomes /etc/softroce/image.conf.
build_vm_image() {
  local role=$1 conf=$2 tmp deb x out root
  shift 2
  # Left by an interrupted build (the caller holds the lock).
  rm -rf "$cache"/.build.* "$cache"/.cluster-build.* "$cache"/debs/.dl.*
  tmp=$(mktemp -d "$cache/.build.XXXXXX")
  deb=$(fetch_kernel_deb)
  x=$tmp/x
  dpkg-deb -x "$deb" "$x" || die 2 "cannot extract $deb"
  [[ -f $x/boot/vmlinuz-$kernel_rel ]] || die 2 "$deb has no boot/vmlinuz-$kernel_rel"
  [[ -d $x/lib/modules/$kernel_rel ]] || die 2 "$deb has no lib/modules/$kernel_rel"
  "$depmod" -b "$x" "$kernel_rel" || die 2 "depmod failed on the extracted kernel"
  out=$tmp/out
  root=$tmp/root
  mkdir -p "$out/modules" "$root/lib/modules"
  copy_kernel "$x" "$out"
  copy_modules "$x" "$out/modules" "$@"
  mv "$out/modules/load-order" "$out/load-order"
  cp "$out"/modules/*.ko "$out/load-order" "$root/lib/modules/"
  fill_initramfs "$root" "$role"
  printf '%s\n' "$conf" >"$root/etc/softroce/image.conf"
  (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet) |
    gzip -6 >"$out/initrd.gz"
  touch "$out/.complete"
  rm -rf "$kdir"
  mv "$out" "$kdir"
  rm -rf "$tmp"
}

# ensure_vm_image PRUNE_GLOB ROLE CONF MODULES...: builds the image unless
# complete (under a lock shared by every runner), forgets images matching
# PRUNE_GLOB and kernel packages nobody used for 14 days, and marks this
# image used. Sets kernel_image.
ensure_vm_image() {
  local prune=$1
  shift
  if [[ ! -f $kdir/.complete ]]; then
    exec 9>"$cache/.lock"
    flock -w 1800 9 || die 125 "timed out waiting for another run to finish preparing $cache"
    if [[ ! -f $kdir/.complete ]]; then
      say "preparing kernel $kernel_rel and initramfs in $kdir (once)"
      build_vm_image "$@"
    fi
    flock -u 9
    exec 9>&-
    find "$cache" -mindepth 1 -maxdepth 1 -type d -name "$prune" -mtime +14 -exec rm -rf {} + 2>/dev/null || true
    find "$cache/debs" -mindepth 1 -maxdepth 1 -name '*.deb' -mtime +14 -delete 2>/dev/null || true
  fi
  touch -c "$kdir" "$cache/debs/linux-image-${kernel_rel}"_*.deb 2>/dev/null || true
  kernel_image=$kdir/vmlinux
  [[ -f $kernel_image ]] || kernel_image=$kdir/vmlinuz
}

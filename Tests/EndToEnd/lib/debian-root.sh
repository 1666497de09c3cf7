# A clean Debian 12 root for the package's tests, and running commands inside it.
# Sourced by Tests/EndToEnd/run.
#
# debootstrap makes the root once, with the packages asked for, and it is kept as a tarball
# under build/ named after that list, so later runs unpack it in seconds and need no network;
# a different list (the package's dependencies changed) makes a new one.

DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian

# debian_root DIR PACKAGE...: unpacks a minimal Debian root with PACKAGE... into DIR (made by
# debootstrap first when there is no cached tarball for that list), and mounts /proc in it
# until cleanup.
debian_root() {
  local root=$1 packages key tarball work
  shift
  packages=$(printf '%s\n' "$@" | sort -u | paste -sd, -)
  key=$(printf '%s %s' "$DEBIAN_SUITE" "$packages" | sha256sum | cut -c 1-12)
  tarball=$REPO/build/debian-root-$DEBIAN_SUITE-$key.tar.gz
  if [[ ! -f $tarball ]]; then
    work=$(mktemp -d "$REPO/build/debian-root.XXXXXX")
    on_exit "rm -rf '$work'"
    note "debootstrap $DEBIAN_SUITE with $packages (once; kept as $tarball)"
    debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$work/root" "$DEBIAN_MIRROR" \
      >"$work/debootstrap.log" 2>&1 || {
      note "debootstrap: $(tail -5 "$work/debootstrap.log" | tr '\n' '|')"
      return 1
    }
    # What no test reads, a third of the root: the downloaded packages, the package lists,
    # translations, documentation and manual pages.
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"* \
      "$work/root/usr/share/"{locale,doc,man}/*
    # It replaces the roots made for other lists, which no test asks for any more.
    tar -C "$work/root" -czf "$work/root.tar.gz" . &&
      rm -f "$REPO/build/debian-root-$DEBIAN_SUITE-"*.tar.gz && mv "$work/root.tar.gz" "$tarball" || return 1
  fi
  mkdir -p "$root" && tar -C "$root" -xzf "$tarball" || return 1
  mount -t proc proc "$root/proc" || return 1
  on_exit "umount '$root/proc'"
}

# in_root DIR COMMAND...: runs COMMAND inside the root with a clean environment, as a
# maintainer script or an admin's script would (standard input is the caller's).
in_root() {
  local root=$1
  shift
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root \
    DEBIAN_FRONTEND=noninteractive "$@"
}

# package_dependencies DEB: the names of the packages DEB depends on (the first of each set of
# alternatives, without versions).
package_dependencies() {
  dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*\)//; s/[[:space:]]//g' | grep -v '^$'
}

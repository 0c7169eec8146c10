#!/usr/bin/env bash
# Proves the README's two set-up commands on a truly fresh machine: a new
# Debian 12 root (debootstrap --variant=minbase bookworm) holding only
# python3, python3-venv, git and ca-certificates, plus this machine's apt
# sources, pip configuration and CA bundle so that the same package
# registries answer. It clones this repository (HEAD, committed files only)
# into the root and runs, inside a chroot with a clean environment:
#     scripts/run.sh --no-serve      (the set-up command)
#     scripts/test.sh                (the test command)
# Anything the project's scripts forget to install fails here. Every step's
# time is printed; any failure exits non-zero. The root is new on every run
# and removed afterwards; only Debian's base packages are cached, outside the
# repository (FRESH_CHECK_CACHE, default /var/cache/arrowembed-fresh-check).
# Needs root (debootstrap, chroot, mount).
#   scripts/fresh_check.sh           both commands
#   scripts/fresh_check.sh --keep    leave the root in place for a look (unmounted)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

keep=0
[ "${1:-}" = "--keep" ] && keep=1
if [ "$(id -u)" -ne 0 ]; then
  echo "fresh_check: needs root (debootstrap, chroot, mount)" >&2
  exit 2
fi

SUITE=bookworm
INCLUDE=python3,python3-venv,git,ca-certificates
CACHE=${FRESH_CHECK_CACHE:-/var/cache/arrowembed-fresh-check}
WORKROOT=${FRESH_CHECK_DIR:-/var/tmp}
started=$(date +%s)

step() {  # step NAME COMMAND...: runs it, prints its time, stops the check on failure
  local name=$1 t0 rc
  shift
  echo "== fresh_check: $name"
  t0=$(date +%s)
  if "$@"; then rc=0; else rc=$?; fi
  echo "== fresh_check: $name: $(( $(date +%s) - t0 )) s (exit $rc)"
  if [ "$rc" -ne 0 ]; then
    echo "fresh_check: FAILED at '$name'" >&2
    exit "$rc"
  fi
}

# The Debian archive this machine's apt uses: the first URI of a bookworm
# entry, from deb822 .sources or one-line .list files.
debian_mirror() {
  local uri
  uri=$(awk '
    /^URIs:/ { uris = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print uris; exit } }
    /^$/ { uris = "" }' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
  if [ -z "$uri" ]; then
    uri=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

install_debootstrap() {
  command -v debootstrap >/dev/null 2>&1 && return 0
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
}

root=""
cleanup() {
  local rc=$? pid m
  trap - EXIT INT TERM
  if [ -n "$root" ] && [ -d "$root" ]; then
    # Anything a test left running inside the root would keep it busy.
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
      [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ] && kill -9 "$pid" 2>/dev/null || true
    done
    for m in "$root/dev/shm" "$root/dev/pts" "$root/dev" "$root/sys" "$root/proc"; do
      if mountpoint -q "$m"; then umount "$m" || umount -l "$m" || true; fi
    done
    if grep -q " $root/" /proc/mounts; then
      echo "fresh_check: something is still mounted under $root; leaving it in place" >&2
      rc=1
    elif [ "$keep" -eq 1 ]; then
      echo "fresh_check: root kept at $root"
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  echo "== fresh_check: total $(( $(date +%s) - started )) s (exit $rc)"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mirror=$(debian_mirror)
tarball="$CACHE/$SUITE-minbase-$(echo "$INCLUDE" | tr ',' '_').tgz"

make_base_tarball() {
  [ -s "$tarball" ] && return 0
  mkdir -p "$CACHE"
  local scratch
  scratch=$(mktemp -d "$WORKROOT/arrowembed-debootstrap.XXXXXX")
  debootstrap --variant=minbase --include="$INCLUDE" --make-tarball="$tarball.part" \
    "$SUITE" "$scratch" "$mirror" >/dev/null
  rm -rf --one-file-system "$scratch"
  mv "$tarball.part" "$tarball"
}

make_root() {
  root=$(mktemp -d "$WORKROOT/arrowembed-fresh-root.XXXXXX")
  chmod 755 "$root"  # as a real root is: apt's unprivileged downloader must reach its cache
  debootstrap --variant=minbase --include="$INCLUDE" --unpack-tarball="$tarball" \
    "$SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 ||
    { tail -n 30 "$CACHE/debootstrap.log" >&2; return 1; }
}

# This machine's package registries, as this machine reaches them: apt
# sources (and the keyrings they name, and apt's acquire settings), pip's
# configuration files (and a constraints file they name), the CA bundle and
# the resolver. Nothing of the project and no installed package.
copy_registry_config() {
  local f key
  rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    cp "$f" "$root$f"
    for key in $(awk '/^Signed-By:/ { print $2 } /signed-by=/ { match($0, /signed-by=[^] ]+/); print substr($0, RSTART + 10, RLENGTH - 10) }' "$f"); do
      [ -f "$key" ] && install -D -m 644 "$key" "$root$key"
    done
  done
  for f in $(grep -l -s '^ *Acquire' /etc/apt/apt.conf.d/* || true); do cp "$f" "$root$f"; done
  for f in /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
    [ -f "$f" ] || continue
    install -D -m 644 "$f" "$root/${f/#$HOME//root}"
    for key in $(awk -F '=' '$1 ~ /^ *constraint *$/ { gsub(/ /, "", $2); print $2 }' "$f"); do
      [ -f "$key" ] && install -D -m 644 "$key" "$root$key"
    done
  done
  install -D -m 644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
}

clone_repo() {
  git clone -q "$repo" "$root/work/arrowembed"
  echo "fresh_check: testing $(git -C "$root/work/arrowembed" log -1 --format='%h %s')"
}

mount_root() {
  mount -t proc proc "$root/proc"
  mount -t sysfs -o ro sysfs "$root/sys"  # CPU topology and cgroup limits (Ray reads them)
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"  # dpkg logs through a pseudo-terminal
  mount -t tmpfs -o size=4g,mode=1777 tmpfs "$root/dev/shm"  # shared memory (Ray's object store)
}

# A clean environment, as a new login on a new machine has it, plus CI's
# flag and the CA variables this machine's clients rely on.
in_root() {
  local cmd=$1
  chroot "$root" /usr/bin/env -i \
    HOME=/root LANG=C.UTF-8 TERM=dumb CI="${CI:-}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt \
    bash -c "cd /work/arrowembed && $cmd" </dev/null
}

step "install debootstrap on the host" install_debootstrap
step "Debian base packages (cached in $CACHE)" make_base_tarball
step "new Debian 12 root" make_root
step "registry configuration" copy_registry_config
step "clone the repository" clone_repo
step "mount /proc, /sys, /dev, /dev/pts and /dev/shm" mount_root
step "set-up command: scripts/run.sh --no-serve" in_root 'scripts/run.sh --no-serve'
step "test command: scripts/test.sh" in_root 'cmake --version | head -n1 && scripts/test.sh'
echo "fresh_check: both README commands passed on a fresh Debian 12 root"

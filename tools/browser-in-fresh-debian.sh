#!/bin/sh
# Checks that the report page's browser tests pass with what `make browser`
# installs and nothing else: a fresh Debian 12 (debootstrap minbase), Debian's
# chromium and chromium-driver without their recommended packages, and this
# checkout's .venv (bind-mounted, with the pyenv Python it links to).
# Run as root from the repository root after `make setup`; needs Debian's
# mirror. The chroot is left in $ROOT (default /tmp/fresh-debian) for reruns.
set -eu
ROOT=${ROOT:-/tmp/fresh-debian}
REPO=$(pwd)
PYTHON_HOME=$(dirname "$(dirname "$(readlink -f .venv/bin/python)")")
command -v debootstrap >/dev/null || apt-get install -y -q debootstrap
[ -x "$ROOT/usr/bin/apt-get" ] || debootstrap --variant=minbase bookworm "$ROOT" http://deb.debian.org/debian
unmount() { for m in "$ROOT$PYTHON_HOME" "$ROOT$REPO" "$ROOT/dev" "$ROOT/proc"; do umount -R "$m" 2>/dev/null || true; done; }
trap unmount EXIT
mkdir -p "$ROOT$REPO" "$ROOT$PYTHON_HOME" "$ROOT/proc" "$ROOT/dev"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount --bind "$REPO" "$ROOT$REPO"
mount --bind "$PYTHON_HOME" "$ROOT$PYTHON_HOME"
cp /etc/resolv.conf /etc/hosts "$ROOT/etc/"
chroot "$ROOT" apt-get update -q
# exactly make browser's line, then the shared libraries the pyenv Python links to
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libffi8 libsqlite3-0 libbz2-1.0 liblzma5 zlib1g libssl3 libreadline8 libncursesw6
echo "packages in the chroot: $(chroot "$ROOT" dpkg-query -W | wc -l)"
chroot "$ROOT" sh -c "cd '$REPO' && CI=true HOME=/root .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_report.py -k chromium"

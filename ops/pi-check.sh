#!/usr/bin/env bash
# make pi-check: install and run wix-printer-service in Debian bookworm userlands of the
# Raspberry Pi's architectures, emulated with qemu-user-static, on any Debian machine.
#
# For each of arm64 (Raspberry Pi OS 64-bit) and armhf (32-bit: Pi 3, Zero 2 W):
#   1. debootstrap a minimal bookworm (python3, python3-venv, and gcc + python3-dev so a
#      package without a wheel can still compile) into $PI_CHECK_DIR/<arch>, once;
#   2. inside it, build the offline wheelhouse the README documents (build requirements
#      included) and note which packages had no wheel and compiled, and how long it took;
#   3. run ops/install.sh into a scratch prefix from that wheelhouse, offline (--no-index);
#   4. smoke test: ops/pi-smoke.py runs the installed `wixprint run` against the simulated
#      Wix shop and a virtual printer, and expects a ticket, /health and a clean stop.
# Prints one JSON line per architecture; exit 0 when both pass. Needs root (chroot, mount)
# and the Debian packages debootstrap, qemu-user-static and binfmt-support.
#
# Environment: PI_CHECK_DIR (default build/pi-check), PI_CHECK_ARCHES (default
# "arm64 armhf"), DEBIAN_MIRROR (default: the first Debian source of this machine's apt),
# PI_CHECK_CA_BUNDLE: the CA certificates pip trusts inside the userlands. Default: this
# machine's own bundle (/etc/ssl/certs/ca-certificates.crt), copied in, so that a network
# behind a TLS-inspecting proxy, whose CA the host trusts, works inside them too; "none":
# the userland's own Debian bundle only.

set -euo pipefail

SOURCE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${PI_CHECK_DIR:-$SOURCE/build/pi-check}
ARCHES=${PI_CHECK_ARCHES:-arm64 armhf}
# gcc, python3-dev and the libffi/zlib/libjpeg headers: what a package without a wheel for
# the architecture needs to compile (cffi, Pillow, psutil, msgspec on armhf).
PACKAGES=python3,python3-venv,python3-dev,gcc,ca-certificates,procps,libffi-dev,zlib1g-dev,libjpeg62-turbo-dev

say() { printf 'pi-check: %s\n' "$*" >&2; }
die() {
    say "error: $*"
    exit 1
}

mirror() {
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then
        printf '%s\n' "$DEBIAN_MIRROR"
        return
    fi
    cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        awk '/^URIs:/ && $2 ~ /debian\/?$/ { print $2; exit }
             /^deb / && $3 ~ /debian\/?$/ { print $3; exit }'
}

((EUID == 0)) || die "run as root (debootstrap, chroot and mount need it)"
for tool in debootstrap qemu-aarch64-static qemu-arm-static; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing: apt-get install debootstrap qemu-user-static binfmt-support"
done
if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
update-binfmts --enable qemu-arm >/dev/null 2>&1 || true

CA_BUNDLE=${PI_CHECK_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[[ $CA_BUNDLE == none || -r $CA_BUNDLE ]] || die "PI_CHECK_CA_BUNDLE: cannot read $CA_BUNDLE"
IN_ROOT_CA=/etc/ssl/certs/pi-check-host-ca.crt

# The host's CA bundle inside userland $1 (PI_CHECK_CA_BUNDLE), for pip and Python's ssl.
trust_host_ca() {
    if [[ $CA_BUNDLE != none ]]; then
        install -m 0644 -- "$CA_BUNDLE" "$1$IN_ROOT_CA"
    fi
}

# Run a command inside the userland $1 with /proc, /dev and DNS, as a clean login.
in_root() {
    local root=$1
    local -a ca=()
    shift
    if [[ $CA_BUNDLE != none ]]; then
        ca=(PIP_CERT="$IN_ROOT_CA" SSL_CERT_FILE="$IN_ROOT_CA")
    fi
    chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
        ${ca[@]+"${ca[@]}"} "$@"
}

# A userland made by an older version of this script gets the packages added since.
ensure_packages() {
    local root=$1 package
    local -a missing=()
    for package in ${PACKAGES//,/ }; do
        in_root "$root" dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null |
            grep -qx installed || missing+=("$package")
    done
    if ((${#missing[@]})); then
        say "$(basename -- "$root"): adding ${missing[*]}"
        in_root "$root" bash -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q --no-install-recommends "$@"' - "${missing[@]}" \
            >>"$WORK/$(basename -- "$root")-debootstrap.log" 2>&1 ||
            die "could not add ${missing[*]} to $root"
    fi
}

# "cffi 95s, Pillow 610s": what pip compiled (no wheel for this architecture) and how long
# each took, from the timestamps of pip's own log.
compile_times() {
    [[ -f $1 ]] || return 0
    python3 - "$1" <<'PY'
import re, sys
from datetime import datetime
started, done = {}, []
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r"(\S+) +Building wheel for (\S+) \(.*\): (started|finished)", line)
    if not m or m.group(2) == "wix-printer-service":
        continue
    when = datetime.fromisoformat(m.group(1).replace(",", "."))
    if m.group(3) == "started":
        started[m.group(2)] = when
    elif m.group(2) in started:
        done.append(f"{m.group(2)} {(when - started[m.group(2)]).total_seconds():.0f}s")
print(", ".join(done))
PY
}

check_arch() {
    local arch=$1 root=$WORK/$1 started build_s install_s compiled rc=0 smoke
    install -d "$WORK"
    if [[ ! -f $root/.pi-check-ready ]]; then
        rm -rf -- "$root"
        say "$arch: debootstrap bookworm (a few minutes under emulation)"
        debootstrap --arch="$arch" --variant=minbase --include="$PACKAGES" bookworm "$root" \
            "$(mirror)" >"$WORK/$arch-debootstrap.log" 2>&1 ||
            die "$arch: debootstrap failed, see $WORK/$arch-debootstrap.log"
        touch "$root/.pi-check-ready"
    fi
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    trust_host_ca "$root"
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
    trap 'umount -l "$WORK"/*/proc "$WORK"/*/dev 2>/dev/null || true' EXIT
    ensure_packages "$root"
    rm -rf -- "$root/src" "$root/scratch" "$root/wheels" "$root/smoke"
    mkdir -p "$root/src"
    cp -R -- "$SOURCE/pyproject.toml" "$SOURCE/README.md" "$SOURCE/src" "$SOURCE/ops" "$root/src/"
    find "$root/src" -name __pycache__ -prune -exec rm -rf {} +

    say "$arch: building the wheelhouse (README: offline install)"
    started=$SECONDS
    rm -f -- "$root/pip-wheel.log"
    in_root "$root" bash -c 'python3 -m venv /tmp/wheelhouse-venv &&
        /tmp/wheelhouse-venv/bin/python -m pip install --quiet --upgrade pip &&
        /tmp/wheelhouse-venv/bin/python -m pip wheel --no-cache-dir --log /pip-wheel.log \
            --wheel-dir /wheels \
            /src "setuptools>=68" wheel' \
        >"$WORK/$arch-wheelhouse.log" 2>&1 || rc=$?
    build_s=$((SECONDS - started))
    compiled=$(compile_times "$root/pip-wheel.log")
    if ((rc)); then
        printf '{"arch": "%s", "ok": false, "failed": "wheelhouse", "log": "%s"}\n' \
            "$arch" "$WORK/$arch-wheelhouse.log"
        return 1
    fi

    say "$arch: ops/install.sh into a scratch prefix, offline"
    started=$SECONDS
    in_root "$root" env PREFIX=/scratch PYTHON=python3 \
        PIP_INSTALL_ARGS="--no-index --find-links /wheels" bash /src/ops/install.sh \
        >"$WORK/$arch-install.log" 2>&1 || rc=$?
    install_s=$((SECONDS - started))
    if ((rc)); then
        printf '{"arch": "%s", "ok": false, "failed": "install", "log": "%s"}\n' \
            "$arch" "$WORK/$arch-install.log"
        return 1
    fi

    say "$arch: wixprint run against the simulated shop"
    smoke=$(in_root "$root" /scratch/opt/wix-printer-service/venv/bin/python \
        /src/ops/pi-smoke.py /scratch/opt/wix-printer-service/venv/bin/wixprint /smoke \
        2>"$WORK/$arch-smoke.log") || rc=$?
    printf '{"arch": "%s", "ok": %s, "python": "%s", "wheelhouse_s": %d, "compiled": "%s", "install_s": %d, "smoke": %s, "date": "%s"}\n' \
        "$arch" "$( ((rc == 0)) && echo true || echo false)" \
        "$(in_root "$root" python3 -c 'import platform; print(platform.python_version())')" \
        "$build_s" "$compiled" "$install_s" "${smoke:-null}" "$(date -u +%Y-%m-%d)"
    return "$rc"
}

failed=0
for arch in $ARCHES; do
    check_arch "$arch" || failed=1
done
exit "$failed"

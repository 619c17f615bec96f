#!/usr/bin/env bash
# Install or upgrade wix-printer-service on Raspberry Pi OS (Debian 12 "bookworm").
#
#   sudo ops/install.sh            fresh install, or repair; running it again changes nothing
#   sudo ops/install.sh --upgrade  install this checkout over a running one: back up, switch,
#                                  restart (migrates), check, and roll back by itself if the
#                                  check fails (previous version and database restored)
#
# Options:
#   --source DIR       project checkout to install (default: the one this script is in)
#   --reuse-site DIR   development and tests only: skip pip; the new venv imports wixprint and
#                      its dependencies from DIR, a site-packages where they are installed
#                      already (via a .pth file), and gets a small `wixprint` launcher. An
#                      install then takes well under a second instead of minutes.
#   --upgrade          see above
#   -h, --help
#
# Environment:
#   PREFIX             install into this scratch root instead of / (implies test mode)
#   WIXPRINT_INSTALL_TEST=1
#                      test mode: no apt-get, useradd or chown (printed as "would run"), and
#                      systemctl only when SYSTEMCTL is set
#   SYSTEMCTL          the systemctl command (default: systemctl)
#   PYTHON             interpreter the venv is made from (default: python3)
#   PIP_INSTALL_ARGS   extra `pip install` arguments, e.g. "--no-index --find-links /media/wheels"
#   CHECK_CMD          the post-upgrade check, run with bash -c
#                      (default: <venv>/bin/wixprint check --config <config>)
#   CHECK_TRIES=10, CHECK_WAIT=3
#                      how often the check is tried, seconds between tries; exit 0 (healthy)
#                      and 1 (degraded: a printer or the internet is down) pass
#   KEEP_RELEASES=2, KEEP_BACKUPS=5
#                      what an upgrade keeps: the current and previous venv, the last backups
#
# Layout (every path below $PREFIX):
#   /opt/wix-printer-service/releases/<version>-<hash>/   one venv per installed version
#   /opt/wix-printer-service/venv -> releases/...         the current one (what the units run)
#   /etc/wixprint/config.toml                             0640 root:wixprint, never overwritten
#   /etc/credstore/                                       0700 root: optional secrets, e.g.
#                                                         wixprint.wix_api_key (see the unit)
#   /etc/systemd/system/wix-printer-*                     the units from ops/systemd
#   /usr/local/bin/wixprint -> /opt/.../venv/bin/wixprint the operator's command
#   /var/lib/wixprint/                                    0700 wixprint: the spool database
#   /var/backups/wixprint/<UTC time>/                     0700 root: what an upgrade saved
#
# Upgrades build the new venv beside the running one, stop the service, back up the spool
# (`wixprint backup`), then switch the venv link and the units and restart. A venv cannot be
# moved (its scripts name their own path), so the previous one simply stays in releases/
# until a later upgrade succeeds.

set -euo pipefail
umask 022

SERVICE=wix-printer-service.service
TIMER=wix-printer-healthcheck.timer
SERVICE_USER=wixprint
PACKAGES=(python3 python3-venv ca-certificates)

PREFIX=${PREFIX:-}
PREFIX=${PREFIX%/}
TEST_MODE=0
if [[ -n $PREFIX || ${WIXPRINT_INSTALL_TEST:-0} == 1 ]]; then
    TEST_MODE=1
fi
if ((TEST_MODE)); then
    SYSTEMCTL=${SYSTEMCTL:-}
else
    SYSTEMCTL=${SYSTEMCTL:-systemctl}
fi
PYTHON=${PYTHON:-python3}
CHECK_CMD=${CHECK_CMD:-}
CHECK_TRIES=${CHECK_TRIES:-10}
CHECK_WAIT=${CHECK_WAIT:-3}
KEEP_RELEASES=${KEEP_RELEASES:-2}
KEEP_BACKUPS=${KEEP_BACKUPS:-5}
read -r -a PIP_ARGS <<<"${PIP_INSTALL_ARGS:-}"
read -r -a SYSTEMCTL_CMD <<<"$SYSTEMCTL"

SOURCE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
REUSE_SITE=
UPGRADE=0

APP=$PREFIX/opt/wix-printer-service
RELEASES=$APP/releases
VENV=$APP/venv
ETC=$PREFIX/etc/wixprint
CONFIG=$ETC/config.toml
CREDSTORE=$PREFIX/etc/credstore
UNIT_DIR=$PREFIX/etc/systemd/system
STATE=$PREFIX/var/lib/wixprint
BACKUPS=$PREFIX/var/backups/wixprint

log() { printf 'install: %s\n' "$*"; }
die() {
    printf 'install: error: %s\n' "$*" >&2
    exit 1
}
usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

# A system change that test mode only reports.
priv() {
    if ((TEST_MODE)); then
        log "[test mode] would run: $*"
    else
        "$@"
    fi
}

sctl() {
    if ((${#SYSTEMCTL_CMD[@]} == 0)); then
        log "[test mode] would run: systemctl $*"
        return 0
    fi
    "${SYSTEMCTL_CMD[@]}" "$@"
}

while (($#)); do
    case $1 in
    --source)
        [[ $# -ge 2 ]] || die "--source needs a directory"
        SOURCE=$(cd -- "$2" 2>/dev/null && pwd) || die "no such directory: $2"
        shift 2
        ;;
    --reuse-site)
        [[ $# -ge 2 ]] || die "--reuse-site needs a directory"
        REUSE_SITE=$(cd -- "$2" 2>/dev/null && pwd) || die "no such directory: $2"
        shift 2
        ;;
    --upgrade)
        UPGRADE=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
done

for needed in pyproject.toml ops/config.example.toml ops/systemd; do
    [[ -e $SOURCE/$needed ]] || die "$SOURCE is not a wix-printer-service checkout (no $needed)"
done
if ((!TEST_MODE)) && ((EUID != 0)); then
    die "run as root (sudo $0)"
fi

# -- versions -----------------------------------------------------------------------------

# <version>-<hash of the source>: a changed checkout is a new release even if the version
# number was not bumped.
release_name() {
    local version hash
    version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SOURCE/pyproject.toml" | head -n 1)
    hash=$(
        cd "$SOURCE" &&
            find pyproject.toml src ops -type f ! -path '*/__pycache__/*' ! -name '*.pyc' \
                ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum |
            sha256sum | cut -c 1-12
    )
    printf '%s-%s\n' "${version:-0}" "$hash"
}

current_release() {
    if [[ -L $VENV ]]; then
        basename -- "$(readlink -- "$VENV")"
    elif [[ -e $VENV ]]; then
        die "$VENV exists and is not a link to a release; move it away first"
    fi
}

build_release() {
    local name=$1 dir=$RELEASES/$1 purelib site build
    if [[ -f $dir/.wixprint-release ]]; then
        log "release $name is built already"
        return 0
    fi
    rm -rf -- "$dir" # a half-built leftover
    install -d -m 0755 "$APP" "$RELEASES"
    log "building release $name"
    if [[ -n $REUSE_SITE ]]; then
        "$PYTHON" -m venv --without-pip "$dir"
        purelib=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
        site=$("$dir/bin/python" -c 'import sys; print(repr(sys.argv[1]))' "$REUSE_SITE")
        printf 'import site; site.addsitedir(%s)\n' "$site" >"$purelib/wixprint-reuse-site.pth"
        printf '#!%s\nimport sys\nfrom wixprint.cli import main\nsys.exit(main())\n' \
            "$dir/bin/python" >"$dir/bin/wixprint"
        chmod 0755 "$dir/bin/wixprint"
    else
        # Built from a clean copy: an in-tree build/ could carry modules a newer version
        # removed into the wheel, and the operator's checkout stays free of root's files.
        build=$(mktemp -d)
        cp -R -- "$SOURCE/pyproject.toml" "$SOURCE/src" "$build/"
        if [[ -f $SOURCE/README.md ]]; then
            cp -- "$SOURCE/README.md" "$build/"
        fi
        "$PYTHON" -m venv "$dir"
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check \
            ${PIP_ARGS[@]+"${PIP_ARGS[@]}"} "$build"
        rm -rf -- "$build"
    fi
    "$dir/bin/wixprint" --version >/dev/null || die "release $name does not run"
    printf 'release=%s\nsource=%s\n' "$name" "$SOURCE" >"$dir/.wixprint-release"
}

switch_to() {
    ln -sfn "releases/$1" "$APP/venv.new"
    mv -Tf "$APP/venv.new" "$VENV"
    log "current release: $1"
}

# -- the system around it ----------------------------------------------------------------

install_packages() {
    local missing=() package
    if ((TEST_MODE)); then
        log "[test mode] would run: apt-get install -y --no-install-recommends ${PACKAGES[*]}"
        return 0
    fi
    for package in "${PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null) != installed ]]; then
            missing+=("$package")
        fi
    done
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    fi
}

create_user() {
    if ((TEST_MODE)); then
        log "[test mode] would run: useradd --system --user-group $SERVICE_USER"
    elif ! getent passwd "$SERVICE_USER" >/dev/null; then
        useradd --system --user-group --home-dir /var/lib/wixprint --no-create-home \
            --shell /usr/sbin/nologin --comment "wix-printer-service" "$SERVICE_USER"
        log "created the system user $SERVICE_USER"
    fi
}

# Copy $1 to $2 with mode $3 unless it is there already; returns 1 when nothing changed.
put() {
    if [[ -f $2 ]] && cmp -s -- "$1" "$2"; then
        chmod "$3" "$2"
        return 1
    fi
    install -m "$3" -- "$1" "$2"
}

setup_directories() {
    install -d -m 0750 "$ETC"
    priv chown "root:$SERVICE_USER" "$ETC"
    install -d -m 0700 "$CREDSTORE"
    priv chown root:root "$CREDSTORE"
    install -d -m 0700 "$STATE"
    priv chown "$SERVICE_USER:$SERVICE_USER" "$STATE"
    install -d -m 0755 "$APP"
    if [[ -f $SOURCE/README.md ]]; then
        put "$SOURCE/README.md" "$APP/README.md" 0644 || true
    fi
}

install_config() {
    local template=$SOURCE/ops/config.example.toml tmp
    if [[ ! -e $CONFIG ]]; then
        tmp=$(mktemp)
        if [[ -n $PREFIX ]]; then
            # A scratch root keeps its spool inside the scratch root too.
            sed "s|^state_dir = \"/var/lib/wixprint\"|state_dir = \"$STATE\"|" "$template" >"$tmp"
        else
            cp -- "$template" "$tmp"
        fi
        install -m 0640 -- "$tmp" "$CONFIG"
        rm -f -- "$tmp"
        log "wrote $CONFIG from the example: edit it before starting the service"
    fi
    chmod 0640 "$CONFIG"
    priv chown "root:$SERVICE_USER" "$CONFIG"
}

# Install the units of $SOURCE; reload systemd only if one changed.
install_units() {
    local unit changed=0
    install -d -m 0755 "$UNIT_DIR"
    for unit in "$SOURCE"/ops/systemd/*; do
        if put "$unit" "$UNIT_DIR/$(basename -- "$unit")" 0644; then
            changed=1
            log "installed unit $(basename -- "$unit")"
        fi
    done
    if ((changed)); then
        sctl daemon-reload
    fi
}

# `wixprint` on root's PATH for the operator commands (check, status, reprint, ...).
link_command() {
    local link=$PREFIX/usr/local/bin/wixprint
    install -d -m 0755 "$(dirname -- "$link")"
    if [[ $(readlink -- "$link" 2>/dev/null) != "$VENV/bin/wixprint" ]]; then
        [[ ! -e $link || -L $link ]] || die "$link exists and is not our link"
        ln -sfn "$VENV/bin/wixprint" "$link"
        log "linked $link"
    fi
}

enable_units() {
    sctl enable "$SERVICE"
    sctl enable --now "$TIMER"
}

# -- upgrade -------------------------------------------------------------------------------

service_active() {
    ((${#SYSTEMCTL_CMD[@]})) && "${SYSTEMCTL_CMD[@]}" is-active --quiet "$SERVICE"
}

new_backup_dir() {
    local base dir n=1
    install -d -m 0700 "$BACKUPS"
    base=$BACKUPS/$(date -u +%Y%m%dT%H%M%SZ)
    dir=$base
    while [[ -e $dir ]]; do
        n=$((n + 1))
        dir=$base-$n
    done
    install -d -m 0700 "$dir"
    printf '%s\n' "$dir"
}

run_check() {
    local try rc
    for ((try = 1; try <= CHECK_TRIES; try++)); do
        rc=0
        if [[ -n $CHECK_CMD ]]; then
            bash -c "$CHECK_CMD" || rc=$?
        else
            "$VENV/bin/wixprint" check --config "$CONFIG" || rc=$?
        fi
        case $rc in
        0)
            log "check passed"
            return 0
            ;;
        1)
            log "check: degraded (the service runs; a printer or the internet is down)"
            return 0
            ;;
        esac
        log "check $try/$CHECK_TRIES failed (exit $rc)"
        if ((try < CHECK_TRIES)); then
            sleep "$CHECK_WAIT"
        fi
    done
    return 1
}

# Keep the current and previous release and the newest backups.
prune() {
    local keep_prev=$1 dir
    local -a backups
    for dir in "$RELEASES"/*/; do
        dir=$(basename -- "$dir")
        if [[ $dir != "$(current_release)" && ($dir != "$keep_prev" || $KEEP_RELEASES -lt 2) ]]; then
            rm -rf -- "${RELEASES:?}/$dir"
            log "removed old release $dir"
        fi
    done
    mapfile -t backups < <(find "$BACKUPS" -mindepth 1 -maxdepth 1 -type d | LC_ALL=C sort -r)
    for dir in "${backups[@]:$KEEP_BACKUPS}"; do
        rm -rf -- "$dir"
        log "removed old backup $dir"
    done
}

rollback() {
    local previous=$1 backup=$2 was_active=$3 unit
    log "rolling back to $previous"
    sctl stop "$SERVICE" || true
    switch_to "$previous"
    if [[ -d $backup/spool ]]; then
        if "$VENV/bin/wixprint" restore "$backup/spool" --config "$CONFIG"; then
            priv chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE"
        else
            log "DATABASE NOT RESTORED: restore it by hand: wixprint restore $backup/spool"
        fi
    fi
    for unit in "$UNIT_DIR"/wix-printer-*; do
        [[ -e $backup/units/$(basename -- "$unit") ]] || rm -f -- "$unit"
    done
    for unit in "$backup"/units/*; do
        [[ -e $unit ]] && install -m 0644 -- "$unit" "$UNIT_DIR/"
    done
    sctl daemon-reload
    if ((was_active)); then
        sctl start "$SERVICE" || log "the previous release did not start either"
    fi
}

upgrade() {
    local previous=$1 target=$2 backup was_active=0
    if [[ $previous == "$target" ]]; then
        log "release $target is installed already"
        install_units
        return 0
    fi
    log "upgrading $previous -> $target"
    build_release "$target" # beside the running service: no downtime yet
    if service_active; then
        was_active=1
    fi
    backup=$(new_backup_dir)
    sctl stop "$SERVICE"
    printf '%s\n' "$previous" >"$backup/previous-release"
    if [[ -x $RELEASES/$previous/bin/pip ]]; then
        "$RELEASES/$previous/bin/python" -m pip freeze >"$backup/previous-release.txt" || true
    fi
    install -d -m 0700 "$backup/units"
    cp -p -- "$UNIT_DIR"/wix-printer-* "$backup/units/" 2>/dev/null || true
    if [[ -f $STATE/spool.sqlite3 ]]; then
        if ! "$VENV/bin/wixprint" backup "$backup/spool" --config "$CONFIG"; then
            ((was_active)) && sctl start "$SERVICE"
            die "the spool backup failed; nothing was changed"
        fi
        priv chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE"
    fi
    log "backup in $backup"

    install_units
    switch_to "$target"
    if sctl restart "$SERVICE" && run_check; then
        prune "$previous"
        log "upgraded to $target (backup in $backup)"
        return 0
    fi
    rollback "$previous" "$backup" "$was_active"
    die "the upgrade to $target failed its check and was rolled back to $previous" \
        "(backup: $backup)"
}

# -- main ----------------------------------------------------------------------------------

main() {
    local target current
    install -d -m 0755 "$APP"
    exec 9>"$APP/.install.lock"
    flock -n 9 || die "another install is running"

    ((TEST_MODE)) && log "test mode: installing into ${PREFIX:-/}"
    install_packages
    create_user
    setup_directories
    install_config
    target=$(release_name)
    current=$(current_release)

    if [[ -z $current ]]; then
        build_release "$target"
        switch_to "$target"
        install_units
        link_command
        enable_units
        log "installed $target. Next: sudo wixprint setup (writes $CONFIG and the secrets"
        log "in $CREDSTORE), then: systemctl start $SERVICE"
    elif ((UPGRADE)); then
        upgrade "$current" "$target"
        link_command
        enable_units
    elif [[ $current != "$target" ]]; then
        die "release $current is installed, this checkout is $target: use --upgrade"
    else
        [[ -f $RELEASES/$current/.wixprint-release ]] || build_release "$current"
        install_units
        link_command
        enable_units
        log "release $target is installed; nothing to do"
    fi
}

main

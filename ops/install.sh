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
#   CHECK_CMD          the post-upgrade check, run with bash -c; it sees $EXPECT_VERSION,
#                      $EXPECT_PID and $CHECK_PHASE (before | after)
#                      (default: <venv>/bin/wixprint check --config <config> --expect-version
#                      <the new version> --expect-pid <the unit's MainPID>)
#   CHECK_TRIES=10, CHECK_WAIT=3, CHECK_SOAK=60, CHECK_PASSES=3
#                      the new version must pass within CHECK_TRIES tries, then keep passing,
#                      every CHECK_WAIT seconds, for CHECK_SOAK seconds and at least
#                      CHECK_PASSES times in a row, with systemd's NRestarts unchanged. Exit 0
#                      (ok) passes; 1 (degraded) only if the service was not ok before
#   KEEP_RELEASES=2, KEEP_BACKUPS=5
#                      what an upgrade keeps: the current and previous venv, the newest of
#                      its own timestamped backups (never the one just taken; folders of
#                      other names, e.g. your manual backups, are never touched)
#   MIN_FREE_MB        free space an upgrade needs beyond its estimate (default: 64)
#
# An upgrade detaches itself (setsid) and logs to /var/backups/wixprint/upgrade-<time>.log
# while this terminal follows the log: a dropped SSH session ends only the following. Once the
# service is stopped, any failure or SIGINT/SIGTERM (Ctrl-C) restores the previous release,
# units and database, starts it again and says so.
#
# Layout (every path below $PREFIX):
#   /opt/wix-printer-service/releases/<version>-<hash>/   one venv per installed version
#   /opt/wix-printer-service/venv -> releases/...         the current one (what the units run)
#   /etc/wixprint/config.toml                             0640 root:wixprint, never overwritten
#   /etc/credstore/                                       0700 root: optional secrets, e.g.
#                                                         wixprint.wix_api_key (see the unit)
#   /etc/systemd/system/wix-printer-*                     the units from ops/systemd
#   /etc/systemd/system/systemd-time-wait-sync.service.d/wixprint.conf
#                                                         boot waits for NTP, 2 min at most
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
TIME_WAIT=systemd-time-wait-sync.service
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
CHECK_SOAK=${CHECK_SOAK:-60}
CHECK_PASSES=${CHECK_PASSES:-3}
MIN_FREE_MB=${MIN_FREE_MB:-64}
KEEP_RELEASES=${KEEP_RELEASES:-2}
KEEP_BACKUPS=${KEEP_BACKUPS:-5}
read -r -a PIP_ARGS <<<"${PIP_INSTALL_ARGS:-}"
read -r -a SYSTEMCTL_CMD <<<"$SYSTEMCTL"

ARGS=("$@")
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

if [[ -n $PREFIX ]]; then
    # Operator commands read secrets from the credential store the units name (under PREFIX).
    export WIXPRINT_CREDSTORE=$CREDSTORE
fi

log() { printf 'install: %s\n' "$*"; }
die() {
    printf 'install: error: %s\n' "$*" >&2
    exit 1
}

# Test mode only: INSTALL_FAIL_AT=<step> makes that step fail, INSTALL_SIGNAL_AT=<step> sends
# this script SIGTERM there (tests prove that every step after the stop rolls back).
step() {
    TX_STEP=$1
    if ((TEST_MODE)) && [[ ${INSTALL_SIGNAL_AT:-} == "$1" ]]; then
        log "[test mode] SIGTERM at step $1"
        kill -TERM "$$"
    fi
    if ((TEST_MODE)) && [[ ${INSTALL_FAIL_AT:-} == "$1" ]]; then
        log "[test mode] injected failure at step $1"
        false
    fi
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

# Copy $1 to $2 with mode $3 unless it is there already. PUT_CHANGED tells whether it was
# copied; a failure to copy is a failure (never "unchanged").
PUT_CHANGED=0
put() {
    PUT_CHANGED=0
    if [[ -f $2 ]] && cmp -s -- "$1" "$2"; then
        chmod "$3" "$2"
        return 0
    fi
    install -m "$3" -- "$1" "$2"
    PUT_CHANGED=1
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
        put "$SOURCE/README.md" "$APP/README.md" 0644
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
        set_not_before "$tmp"
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
        put "$unit" "$UNIT_DIR/$(basename -- "$unit")" 0644
        if ((PUT_CHANGED)); then
            changed=1
            log "installed unit $(basename -- "$unit")"
        fi
    done
    install -d -m 0755 "$UNIT_DIR/$TIME_WAIT.d"
    put "$SOURCE/ops/time-wait-sync.conf" "$UNIT_DIR/$TIME_WAIT.d/wixprint.conf" 0644
    if ((PUT_CHANGED)); then
        changed=1
        log "installed $TIME_WAIT.d/wixprint.conf (boot waits for NTP, 2 minutes at most)"
    fi
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
    setup_time_sync
}

# The service is ordered After=time-sync.target, which waits for nothing unless a provider
# holds it. systemd-time-wait-sync (part of systemd, disabled on Raspberry Pi OS) holds it
# until the kernel reports NTP sync; our drop-in (install_units) bounds that wait to two
# minutes, so a Pi booting without internet still prints what it has spooled. A failure
# only warns: the service checks its clock itself.
setup_time_sync() {
    sctl enable "$TIME_WAIT" ||
        log "warning: could not enable $TIME_WAIT: the service starts without waiting for NTP"
}

# -- upgrade -------------------------------------------------------------------------------

service_active() {
    ((${#SYSTEMCTL_CMD[@]})) && "${SYSTEMCTL_CMD[@]}" is-active --quiet "$SERVICE"
}

# A property of the service unit (NRestarts, MainPID); empty in test mode without systemctl.
unit_prop() {
    ((${#SYSTEMCTL_CMD[@]})) || return 0
    "${SYSTEMCTL_CMD[@]}" show -p "$1" --value "$SERVICE" 2>/dev/null || true
}

# Is the system clock synchronised (NTP)? Test mode: $INSTALL_CLOCK_SYNCED (default yes).
clock_synced() {
    if ((TEST_MODE)); then
        [[ ${INSTALL_CLOCK_SYNCED:-yes} == yes ]]
        return
    fi
    [[ $(timedatectl show -p NTPSynchronized --value 2>/dev/null) == yes ]]
}

# Orders Wix approved before this install are history, not tickets: write the install time
# as wix.not_before, but only from a synchronised clock (a Pi has no real-time clock).
set_not_before() {
    local now
    if clock_synced; then
        now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        sed -i "s|^not_before = \"\"|not_before = \"$now\"|" "$1"
        log "wix.not_before = $now: orders placed before this install are not printed"
    else
        log "the clock is not synchronised: wix.not_before left empty; the service sets it"
        log "from its first start once the clock is synchronised"
    fi
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

# Free KiB on the filesystem holding $1.
free_kb() { df -Pk -- "$1" | awk 'NR == 2 { print $4 }'; }
size_kb() { du -sk -- "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }

# Before anything changes: room for the new release, the backup and the migration.
check_space() {
    local previous=$1 release_kb spool_kb need_app need_backup margin=$((MIN_FREE_MB * 1024))
    release_kb=$(size_kb "$RELEASES/$previous")
    spool_kb=$(size_kb "$STATE"/spool.sqlite3*)
    need_app=$((release_kb + margin))
    need_backup=$((2 * spool_kb + margin)) # the backup, and the new version's migration
    install -d -m 0700 "$BACKUPS"
    if [[ $(stat -c %d -- "$APP") == $(stat -c %d -- "$BACKUPS") ]]; then
        need_app=$((need_app + need_backup))
        need_backup=0
    fi
    if (($(free_kb "$APP") < need_app)); then
        die "not enough free space for the upgrade: $((need_app / 1024)) MB needed on" \
            "$APP, $(($(free_kb "$APP") / 1024)) MB free; nothing was changed"
    fi
    if (($(free_kb "$BACKUPS") < need_backup)); then
        die "not enough free space for the upgrade: $((need_backup / 1024)) MB needed on" \
            "$BACKUPS, $(($(free_kb "$BACKUPS") / 1024)) MB free; nothing was changed"
    fi
}

# One health check; exit code of `wixprint check` (0 ok, 1 degraded, 2 down).
check_once() {
    local phase=$1 version=$2 pid=$3
    local -a args=(check --config "$CONFIG")
    if [[ -n $CHECK_CMD ]]; then
        CHECK_PHASE=$phase EXPECT_VERSION=$version EXPECT_PID=$pid bash -c "$CHECK_CMD"
        return
    fi
    [[ -z $version ]] || args+=(--expect-version "$version")
    [[ -z $pid || $pid == 0 ]] || args+=(--expect-pid "$pid")
    "$VENV/bin/wixprint" "${args[@]}" >/dev/null
}

# The new version proves itself: it answers as itself (version, the unit's main process),
# passes within CHECK_TRIES tries, then keeps passing for CHECK_SOAK seconds and at least
# CHECK_PASSES times, and systemd never restarted it meanwhile.
verify_upgrade() {
    local before=$1 version restarts passes=0 tries=0 first_pass=-1 rc pid
    version=$("$VENV/bin/wixprint" --version | awk '{ print $2 }')
    restarts=$(unit_prop NRestarts)
    while :; do
        pid=$(unit_prop MainPID)
        rc=0
        check_once after "$version" "$pid" || rc=$?
        if ((rc == 0 || (rc == 1 && before != 0))); then
            passes=$((passes + 1))
            ((first_pass >= 0)) || first_pass=$SECONDS
        elif ((passes)); then
            log "check failed (exit $rc) after $passes passes: the new version is not stable"
            return 1
        else
            tries=$((tries + 1))
            log "check $tries/$CHECK_TRIES: exit $rc"
            ((tries < CHECK_TRIES)) || return 1
        fi
        if [[ $(unit_prop NRestarts) != "$restarts" ]]; then
            log "the service was restarted during the check (NRestarts $restarts ->" \
                "$(unit_prop NRestarts))"
            return 1
        fi
        if ((passes >= CHECK_PASSES && SECONDS - first_pass >= CHECK_SOAK)); then
            log "check passed $passes times over $((SECONDS - first_pass)) s (version $version)"
            return 0
        fi
        sleep "$CHECK_WAIT"
    done
}

# Keep the current and previous release, and the newest of our own timestamped backups; the
# one just taken ($2) is always kept. Runs after the upgrade succeeded: failures only warn.
prune() {
    local keep_prev=$1 keep_backup=$2 dir current kept=0
    local -a backups
    current=$(current_release)
    for dir in "$RELEASES"/*/; do
        dir=$(basename -- "$dir")
        if [[ $dir != "$current" && ($dir != "$keep_prev" || $KEEP_RELEASES -lt 2) ]]; then
            if rm -rf -- "${RELEASES:?}/$dir"; then
                log "removed old release $dir"
            else
                log "warning: could not remove old release $dir"
            fi
        fi
    done
    mapfile -t backups < <(find "$BACKUPS" -mindepth 1 -maxdepth 1 -type d \
        -regextype posix-extended -regex '.*/[0-9]{8}T[0-9]{6}Z(-[0-9]+)?' | LC_ALL=C sort -r)
    for dir in "${backups[@]}"; do
        if [[ $dir == "$keep_backup" ]] || ((kept < KEEP_BACKUPS)); then
            kept=$((kept + 1))
            continue
        fi
        if rm -rf -- "$dir"; then
            log "removed old backup $dir"
        else
            log "warning: could not remove old backup $dir"
        fi
    done
}

# -- the upgrade transaction ---------------------------------------------------------------
# From the stop on, the EXIT trap rolls back whatever happened: a failed command (set -e), a
# die, SIGINT or SIGTERM. The rollback itself ignores signals and goes on past failures.

TX_ACTIVE=0
TX_STEP=
TX_WHY=

tx_begin() {
    TX_PREVIOUS=$1 TX_BACKUP=$2 TX_WAS_ACTIVE=$3
    TX_UNITS_SAVED=0 TX_STARTED=0 TX_ACTIVE=1
    set -o errtrace
    trap 'TX_WHY="command failed (exit $?): $BASH_COMMAND"' ERR
    trap 'TX_WHY="interrupted by SIGINT"; exit 130' INT
    trap 'TX_WHY="interrupted by SIGTERM"; exit 143' TERM
    trap tx_on_exit EXIT
}

tx_commit() {
    TX_ACTIVE=0
    trap - ERR INT TERM EXIT
    set +o errtrace
}

tx_on_exit() {
    ((TX_ACTIVE)) || return 0
    TX_ACTIVE=0
    trap - ERR EXIT
    trap '' INT TERM HUP
    set +e +o errtrace
    log "UPGRADE FAILED at step ${TX_STEP:-?}: ${TX_WHY:-stopped unexpectedly}"
    if rollback; then
        if ((TX_WAS_ACTIVE)); then
            log "ROLLED BACK: $TX_PREVIOUS is installed and running again (backup: $TX_BACKUP)"
        else
            log "ROLLED BACK: $TX_PREVIOUS is installed again (backup: $TX_BACKUP)"
        fi
    else
        log "ROLLBACK INCOMPLETE: see the lines above; the backup is $TX_BACKUP"
    fi
    exit 1
}

# Restore the previous release, units and (if the new version ran) database; start it.
rollback() {
    local unit ok=0
    log "rolling back to $TX_PREVIOUS"
    sctl stop "$SERVICE" || log "stopping the service failed"
    if ! switch_to "$TX_PREVIOUS"; then
        log "could not switch $VENV back to releases/$TX_PREVIOUS: do it by hand"
        ok=1
    fi
    if ((TX_STARTED)) && [[ -d $TX_BACKUP/spool ]]; then
        if "$VENV/bin/wixprint" restore "$TX_BACKUP/spool" --config "$CONFIG"; then
            priv chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE"
        else
            log "DATABASE NOT RESTORED: restore it by hand: wixprint restore $TX_BACKUP/spool"
            ok=1
        fi
    fi
    if ((TX_UNITS_SAVED)); then
        for unit in "$UNIT_DIR"/wix-printer-*; do
            if [[ -e $unit && ! -e $TX_BACKUP/units/$(basename -- "$unit") ]]; then
                rm -f -- "$unit" || ok=1
            fi
        done
        for unit in "$TX_BACKUP"/units/*; do
            if [[ -e $unit ]] && ! install -m 0644 -- "$unit" "$UNIT_DIR/"; then
                log "could not restore the unit $(basename -- "$unit")"
                ok=1
            fi
        done
    fi
    if ! sctl daemon-reload; then
        log "systemctl daemon-reload failed: run it by hand"
        ok=1
    fi
    if ((TX_WAS_ACTIVE)); then
        if ! sctl start "$SERVICE"; then
            log "the previous release did not start either: systemctl status $SERVICE"
            ok=1
        fi
    fi
    return "$ok"
}

upgrade() {
    local previous=$1 target=$2 backup was_active=0 before=2
    if [[ $previous == "$target" ]]; then
        log "release $target is installed already"
        install_units
        return 0
    fi
    log "upgrading $previous -> $target"
    check_space "$previous"
    build_release "$target" # beside the running service: no downtime yet
    if service_active; then
        was_active=1
        check_once before "" "" && before=0 || before=$?
    fi
    backup=$(new_backup_dir)

    tx_begin "$previous" "$backup" "$was_active"
    step stop
    sctl stop "$SERVICE"
    step record
    printf '%s\n' "$previous" >"$backup/previous-release"
    if [[ -x $RELEASES/$previous/bin/pip ]]; then
        "$RELEASES/$previous/bin/python" -m pip freeze >"$backup/previous-release.txt"
    fi
    step save-units
    install -d -m 0700 "$backup/units"
    if compgen -G "$UNIT_DIR/wix-printer-*" >/dev/null; then
        cp -p -- "$UNIT_DIR"/wix-printer-* "$backup/units/"
    fi
    TX_UNITS_SAVED=1
    step backup-spool
    if [[ -f $STATE/spool.sqlite3 ]]; then
        "$VENV/bin/wixprint" backup "$backup/spool" --config "$CONFIG"
        step chown-state
        priv chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE"
    fi
    log "backup in $backup"
    step install-units
    install_units
    step switch
    switch_to "$target"
    step restart
    TX_STARTED=1
    sctl restart "$SERVICE"
    step verify
    verify_upgrade "$before"
    tx_commit

    prune "$previous" "$backup"
    log "upgraded to $target (backup in $backup)"
}

# An upgrade runs detached from the terminal (its own session: no SIGHUP when an SSH
# connection drops) and logs to a file this terminal follows. Ctrl-C is passed on.
detach_upgrade() {
    local logfile pid rc=0
    install -d -m 0700 "$BACKUPS"
    logfile=$BACKUPS/upgrade-$(date -u +%Y%m%dT%H%M%SZ)-$$.log
    (umask 077 && : >"$logfile")
    WIXPRINT_UPGRADE_LOG=$logfile setsid bash -- "${BASH_SOURCE[0]}" "$@" </dev/null \
        >>"$logfile" 2>&1 &
    pid=$!
    # The upgrade leads a process group of its own: a signal reaches what it runs, too. It
    # gets SIGTERM (a background job ignores SIGINT for good).
    trap 'log "interrupted: the upgrade stops and rolls back"; kill -TERM -- "-$pid" 2>/dev/null' \
        INT TERM
    while [[ ! -s $logfile ]] && kill -0 "$pid" 2>/dev/null; do
        sleep 0.05 # detached once it has written its first line
    done
    printf 'install: upgrading in the background (pid %s), log: %s\n' "$pid" "$logfile"
    tail -n +1 --pid="$pid" -f -- "$logfile" &
    # `wait` (not a foreground tail) so that Ctrl-C is passed on at once.
    while :; do
        wait "$pid" && rc=0 || rc=$?
        kill -0 "$pid" 2>/dev/null || break # else wait returned early for a signal
    done
    wait || true # the tail's last lines
    exit "$rc"
}

# -- main ----------------------------------------------------------------------------------

main() {
    local target current
    if ((UPGRADE)) && [[ -z ${WIXPRINT_UPGRADE_LOG:-} ]]; then
        detach_upgrade "${ARGS[@]}"
    elif ((UPGRADE)); then
        log "upgrade detached from the terminal (pid $$), logging to $WIXPRINT_UPGRADE_LOG"
    fi
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
        log "installed $target. Next: edit $CONFIG, put secrets into $CREDSTORE/wixprint.*"
        log "(e.g. wixprint.wix_api_key, mode 0600), then: systemctl start $SERVICE"
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

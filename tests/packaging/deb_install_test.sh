#!/usr/bin/env bash
# PackagingTest.DebInstallsAndServerStarts: builds the Debian package with
# CPack from a build tree, installs it into a throwaway root and runs the
# server from it as its systemd unit says, leaving the host untouched.
#
#   deb_install_test.sh --build-dir DIR --version X.Y.Z [--cpack PATH]
#
# The throwaway root: in new mount, network and PID namespaces, an overlayfs
# whose lower layer is the host's / (read-only to it) and whose upper layer
# is a tmpfs, with its own /proc, /run and /tmp and only a loopback
# interface. dpkg runs in a chroot there, so the package's dependencies are
# the host's own libraries and nothing is downloaded. When the namespaces end
# (this script's inner half exits) every mount and process in them is gone.
#
# systemd does not run in the throwaway root, so this script plays its part:
# /run/systemd/system exists there and systemctl is a stub that logs its
# arguments (the maintainer scripts' calls are checked), and the server is
# started with the unit's ExecStart=, User=, Group= and UMask=. Checked on
# the way: the package's fields, files and stripped binaries, the user and
# data directory, systemd-analyze verify, that the packaged configuration
# shows every flag of plantraild and passes --check-config, the CLI with the
# admin token, the metrics endpoint, a clean SIGTERM, an upgrade over itself
# and a purge that keeps /var/lib/plantrail.
#
# Needs root (mount namespaces, chroot, dpkg). It fails, never skips, when
# something it needs is missing.
set -euo pipefail

log() { printf 'deb_install_test: %s\n' "$*" >&2; }
fail() {
  printf 'deb_install_test: FAIL: %s\n' "$*" >&2
  exit 1
}
# Runs "$@", failing with its output when it fails.
run_or_fail() {
  local what=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" >&2
    fail "$what: '$*' failed"
  fi
  printf '%s\n' "$out"
}
# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.1 s until it
# succeeds (0) or SECONDS have passed (1).
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.1
  done
}

# --- the inner half: runs in the new namespaces ----------------------------
if [ "${1:-}" = "--inside" ]; then
  work=$2
  deb=$3
  version=$4
  : >"$work/inside.started"
  root=$work/ns/merged
  systemctl_log=/run/systemctl-stub.log # inside the root

  mount --make-rprivate / ||
    fail "cannot make the mounts of the new namespace private"
  mount -t tmpfs -o mode=0755 plantrail-pkg-test "$work/ns" ||
    fail "cannot mount a tmpfs for the throwaway root"
  mkdir "$work/ns/upper" "$work/ns/work" "$root"
  mount -t overlay plantrail-pkg-root \
    -o "lowerdir=/,upperdir=$work/ns/upper,workdir=$work/ns/work" "$root" ||
    fail "cannot mount an overlayfs over / (lowerdir=/, upper on tmpfs):" \
      "the kernel needs overlayfs, and / must be usable as a lower layer"
  mount -t proc proc "$root/proc" || fail "cannot mount /proc in the root"
  mount --rbind /sys "$root/sys" || fail "cannot bind /sys into the root"
  mount --rbind /dev "$root/dev" || fail "cannot bind /dev into the root"
  # A /run of its own: nothing reaches the host's systemd (or other daemons)
  # through its sockets, even on a host that runs systemd.
  mount -t tmpfs -o mode=0755 run "$root/run" || fail "cannot mount /run"
  mount -t tmpfs -o mode=1777 tmp "$root/tmp" || fail "cannot mount /tmp"
  ip link set lo up || fail "cannot bring up lo in the network namespace"

  # Commands in the root get a clean environment, as apt would give dpkg.
  in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LC_ALL=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  }

  # systemctl is a stub that logs its calls; the real one would talk to a
  # systemd that is not there.
  cat >"$root/usr/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>$systemctl_log
exit 0
EOF
  chmod 0755 "$root/usr/bin/systemctl"
  mkdir -p "$root/run/systemd/system"
  stub_calls() { cat "$root$systemctl_log" 2>/dev/null || true; }

  cp "$deb" "$root/tmp/"
  deb_in_root=/tmp/$(basename "$deb")

  # A clean slate, or the checks below would prove nothing: what a real
  # install on this machine left is removed, in the throwaway root only.
  if in_root dpkg-query -W plantrail >/dev/null 2>&1; then
    log "this machine has the package plantrail; purged in the throwaway root"
    run_or_fail "purging the host's plantrail in the throwaway root" \
      in_root dpkg --purge plantrail >/dev/null
  fi
  rm -rf "$root/etc/plantrail" "$root/var/lib/plantrail"
  if in_root getent passwd plantrail >/dev/null; then
    in_root userdel plantrail || fail "cannot remove the host's user plantrail"
  fi
  if in_root getent group plantrail >/dev/null; then
    in_root groupdel plantrail || fail "cannot remove the host's group plantrail"
  fi
  : >"$root$systemctl_log"

  # --- first install -------------------------------------------------------
  log "dpkg -i $(basename "$deb") in the throwaway root"
  run_or_fail "first install" in_root dpkg -i "$deb_in_root" >&2

  in_root getent passwd plantrail >/dev/null || fail "no user plantrail"
  in_root getent group plantrail >/dev/null || fail "no group plantrail"
  user_line=$(in_root getent passwd plantrail)
  IFS=: read -r _ _ uid gid _ home shell <<<"$user_line"
  [ "$uid" -lt 1000 ] || fail "plantrail is not a system user: $user_line"
  [ "$(in_root getent group "$gid" | cut -d: -f1)" = plantrail ] ||
    fail "plantrail's primary group is not plantrail: $user_line"
  [ "$home" = /var/lib/plantrail ] || fail "plantrail's home: $user_line"
  case "$shell" in
    */nologin | */false) ;;
    *) fail "plantrail can log in: $user_line" ;;
  esac
  stat_of() { in_root stat -c '%a %U:%G' "$1"; }
  [ "$(stat_of /var/lib/plantrail)" = "750 plantrail:plantrail" ] ||
    fail "/var/lib/plantrail is $(stat_of /var/lib/plantrail)," \
      "not 750 plantrail:plantrail"
  [ "$(stat_of /var/backups/plantrail)" = "750 plantrail:plantrail" ] ||
    fail "/var/backups/plantrail is $(stat_of /var/backups/plantrail)," \
      "not 750 plantrail:plantrail"
  [ -f "$root/etc/plantrail/plantraild.toml" ] ||
    fail "/etc/plantrail/plantraild.toml is not installed"
  grep -qx "/etc/plantrail/plantraild.toml" \
    "$root/var/lib/dpkg/info/plantrail.conffiles" ||
    fail "/etc/plantrail/plantraild.toml is not a conffile"
  for path in /usr/bin/plantraild /usr/bin/plantrail \
    /lib/systemd/system/plantraild.service \
    /usr/share/doc/plantrail/copyright; do
    [ -e "$root$path" ] || fail "$path is not installed"
  done
  calls=$(stub_calls)
  for call in daemon-reload "enable plantraild.service" \
    "start plantraild.service"; do
    grep -qx "$call" <<<"$calls" ||
      fail "postinst did not run 'systemctl $call' on a first install;" \
        "it ran: ${calls:-nothing}"
  done

  # --- the unit ------------------------------------------------------------
  unit=$root/lib/systemd/system/plantraild.service
  unit_value() { sed -n "s/^$1=//p" "$unit" | tail -n 1; }
  if in_root sh -c 'command -v systemd-analyze' >/dev/null; then
    # Without the stub's /run/systemd/system: verify as on a machine that
    # does not run systemd, which is what this root is.
    rm -rf "$root/run/systemd"
    if ! out=$(in_root systemd-analyze verify --man=no \
      /lib/systemd/system/plantraild.service 2>&1); then
      printf '%s\n' "$out" >&2
      fail "systemd-analyze verify refuses plantraild.service"
    fi
    if grep -i "plantraild" <<<"$out" >&2; then
      fail "systemd-analyze verify warns about plantraild.service"
    fi
    exposure=$(in_root systemd-analyze security --offline=true --no-pager \
      /lib/systemd/system/plantraild.service 2>&1 | tail -n 1) || true
    mkdir -p "$root/run/systemd/system"
    log "systemd-analyze verify: plantraild.service is clean; security:" \
      "${exposure#→ }"
  else
    fail "systemd-analyze is missing (Debian package systemd; scripts/setup" \
      "installs it)"
  fi
  user=$(unit_value User)
  group=$(unit_value Group)
  umask_value=$(unit_value UMask)
  exec_start=$(unit_value ExecStart)
  [ -n "$user" ] && [ -n "$group" ] && [ -n "$exec_start" ] ||
    fail "the unit lacks User=, Group= or ExecStart="
  read -r -a command <<<"$exec_start"
  config=""
  for ((i = 0; i < ${#command[@]}; i++)); do
    if [ "${command[i]}" = --config ]; then config=${command[i + 1]:-}; fi
  done
  [ "$config" = /etc/plantrail/plantraild.toml ] ||
    fail "ExecStart= does not read /etc/plantrail/plantraild.toml: $exec_start"

  # The configuration's value of KEY (a quoted string or a bare value).
  config_value() {
    sed -n "s/^$1[[:space:]]*=[[:space:]]*//p" "$root$config" |
      sed 's/[[:space:]]*#.*$//; s/^"\(.*\)"$/\1/' | tail -n 1
  }
  listen=$(config_value listen)
  metrics_listen=$(config_value metrics-listen)
  [ "$(config_value data-dir)" = /var/lib/plantrail ] ||
    fail "the packaged configuration's data-dir is not /var/lib/plantrail"
  [ -n "$listen" ] || fail "the packaged configuration sets no listen"

  help=$(in_root "${command[0]}" --help 2>&1) ||
    fail "${command[0]} --help failed: $help"
  has_flag() { grep -qE -- "--$1([ =]|\$)" <<<"$help"; }
  if has_flag version; then
    reported=$(in_root "${command[0]}" --version 2>&1) || true
    grep -qF "$version" <<<"$reported" ||
      fail "${command[0]} --version says '$reported', the package $version"
  fi
  for flag in config check-config metrics-listen; do
    has_flag "$flag" ||
      fail "${command[0]} has no --$flag, which the unit and the packaged" \
        "configuration need"
  done
  # Every setting of plantraild is in the packaged file, set or shown
  # commented out with its default (not the one-shot --restore-from).
  while read -r flag; do
    case "$flag" in
      --help | --version | --config | --check-config | --restore-from) ;;
      *)
        grep -qE "^#?${flag#--} = " "$root$config" ||
          fail "plantraild has $flag but $config does not show" \
            "${flag#--} (set, or commented out with its default)"
        ;;
    esac
  done < <(grep -oE '^ +--[a-z][a-z0-9-]*' <<<"$help")
  run_or_fail "--check-config on the packaged configuration" \
    in_root setpriv --reuid="$user" --regid="$group" --init-groups \
    "${command[@]}" --check-config >/dev/null
  # The defaults shown commented out are valid settings too.
  sed -E 's/^#([a-z][a-z0-9-]* = )/\1/' "$root$config" \
    >"$root/tmp/every-key.toml"
  run_or_fail "--check-config with every key of the packaged file" \
    in_root "${command[0]}" --config /tmp/every-key.toml \
    --check-config >/dev/null
  log "plantraild --check-config accepts the packaged configuration," \
    "and with every default shown in it uncommented"

  # --- the server, started as systemd would --------------------------------
  log "starting as $user:$group (umask ${umask_value:-0022}): ${command[*]}"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/var/lib/plantrail USER="$user" LOGNAME="$user" \
    /usr/bin/setpriv --reuid="$user" --regid="$group" --init-groups \
    --no-new-privs /bin/sh -c 'umask "$0"; exec "$@"' "${umask_value:-0022}" \
    "${command[@]}" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  server_log() {
    printf -- '--- server stdout:\n%s\n--- server stderr:\n%s\n' \
      "$(cat "$work/server.out")" "$(cat "$work/server.err")" >&2
  }
  host=${listen%:*}
  port=${listen##*:}
  accepts() {
    kill -0 "$server_pid" 2>/dev/null || return 0 # died: stop waiting
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  }
  wait_for 30 "the server to listen" accepts "$host" "$port" ||
    { server_log; fail "the server does not listen on $listen after 30 s"; }
  kill -0 "$server_pid" 2>/dev/null ||
    { server_log; fail "the server exited at start"; }
  log "the server listens on $listen"

  token=/var/lib/plantrail/admin.token
  [ -f "$root$token" ] || { server_log; fail "no admin token in $token"; }
  [ "$(stat_of "$token")" = "600 plantrail:plantrail" ] ||
    fail "$token is $(stat_of "$token"), not 600 plantrail:plantrail"

  cli() {
    in_root /usr/bin/plantrail --server "$listen" --token-file "$token" "$@"
  }
  run_or_fail "the CLI appends" cli events append packaging-test \
    --type PackageInstalled --data "from the throwaway root" >&2
  out=$(run_or_fail "the CLI verifies" cli admin verify)
  log "plantrail admin verify: $(head -n 1 <<<"$out")"
  run_or_fail "the CLI reads" cli events read packaging-test >/dev/null
  # A backup where the unit lets the server write one (docs/operations.md).
  run_or_fail "the CLI backs up" cli admin backup /var/backups/plantrail/first \
    >&2
  [ -f "$root/var/backups/plantrail/first/backup.json" ] ||
    fail "no backup.json in /var/backups/plantrail/first"

  # The Prometheus endpoint of metrics-listen.
  [ -n "$metrics_listen" ] ||
    fail "the packaged configuration sets no metrics-listen"
  metrics=""
  scrape() {
    metrics=$(curl -fsS --max-time 5 "http://$metrics_listen/metrics")
  }
  wait_for 10 "the metrics endpoint" scrape 2>/dev/null ||
    fail "no answer from http://$metrics_listen/metrics"
  grep -q '^# TYPE ' <<<"$metrics" ||
    fail "http://$metrics_listen/metrics is not in the Prometheus format"
  log "http://$metrics_listen/metrics answers" \
    "($(grep -c '^# TYPE ' <<<"$metrics") metrics)"

  # --- SIGTERM: drains and stops cleanly ------------------------------------
  kill -TERM "$server_pid"
  stopped() { ! kill -0 "$server_pid" 2>/dev/null; }
  # The unit's TimeoutStopSec=, after which systemd would SIGKILL.
  stop_timeout=$(unit_value TimeoutStopSec)
  stop_timeout=${stop_timeout%s}
  [[ "$stop_timeout" =~ ^[0-9]+$ ]] || stop_timeout=90 # systemd's default
  wait_for "$stop_timeout" "the server to stop" stopped ||
    { server_log; fail "the server still runs ${stop_timeout} s after SIGTERM"; }
  status=0
  wait "$server_pid" || status=$?
  [ "$status" -eq 0 ] ||
    { server_log; fail "the server exited with $status after SIGTERM"; }
  log "SIGTERM: the server stopped cleanly"

  # --- the same package again: an upgrade ----------------------------------
  : >"$root$systemctl_log"
  run_or_fail "reinstall" in_root dpkg -i "$deb_in_root" >&2
  calls=$(stub_calls)
  grep -qx "try-restart plantraild.service" <<<"$calls" ||
    fail "postinst did not run 'systemctl try-restart plantraild.service'" \
      "on an upgrade; it ran: ${calls:-nothing}"
  ! grep -qx "enable plantraild.service" <<<"$calls" ||
    fail "postinst enabled the unit again on an upgrade"
  [ "$(in_root getent passwd plantrail)" = "$user_line" ] ||
    fail "the upgrade changed the user plantrail"
  [ -f "$root$token" ] || fail "the upgrade lost $token"

  # --- purge: the configuration goes, the data stays ------------------------
  : >"$root$systemctl_log"
  out=$(run_or_fail "purge" in_root dpkg --purge plantrail)
  printf '%s\n' "$out" >&2
  grep -qx "stop plantraild.service" <<<"$(stub_calls)" ||
    fail "prerm did not stop the unit on purge; it ran: $(stub_calls)"
  grep -q "/var/lib/plantrail" <<<"$out" ||
    fail "purge did not say where the data directory is left"
  for path in /etc/plantrail /usr/bin/plantraild /usr/bin/plantrail \
    /lib/systemd/system/plantraild.service; do
    [ ! -e "$root$path" ] || fail "$path is still there after purge"
  done
  [ -f "$root$token" ] && [ -d "$root/var/lib/plantrail/eventstore" ] ||
    fail "purge deleted the data in /var/lib/plantrail"
  log "purge: /etc/plantrail removed, /var/lib/plantrail kept"
  : >"$work/inside.passed"
  exit 0
fi

# --- the outer half: builds the package, then enters the namespaces --------
build_dir=""
version=""
cpack=cpack
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --version) version=$2; shift 2 ;;
    --cpack) cpack=$2; shift 2 ;;
    *) fail "unknown argument $1" ;;
  esac
done
[ -n "$build_dir" ] && [ -n "$version" ] ||
  fail "usage: $0 --build-dir DIR --version X.Y.Z [--cpack PATH]"
[ -f "$build_dir/CPackConfig.cmake" ] ||
  fail "$build_dir has no CPackConfig.cmake (configure it with CMake first)"

[ "$(id -u)" -eq 0 ] ||
  fail "needs root: it makes mount namespaces, chroots and runs dpkg" \
    "(in a throwaway root; the host is not changed)"
for tool in "$cpack" dpkg-deb dpkg-shlibdeps readelf unshare chroot mount \
  setpriv ip curl; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (scripts/setup installs what the test needs)"
done

start=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/plantrail-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/ns" "$work/cpack"

# --- the package -----------------------------------------------------------
log "cpack -G DEB in $build_dir"
if ! (cd "$build_dir" && "$cpack" -G DEB -B "$work/cpack") \
  >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB failed"
fi
debs=("$work/cpack"/plantrail_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] ||
  { cat "$work/cpack.log" >&2; fail "cpack made no plantrail_*.deb"; }
deb=${debs[0]}
log "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) in $((SECONDS - start)) s"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = plantrail ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] ||
  fail "Version: $(field Version), not the project's $version"
depends=$(field Depends)
grep -q '\badduser\b' <<<"$depends" || fail "Depends lacks adduser: $depends"
grep -q '\blibc6\b' <<<"$depends" ||
  fail "Depends lacks the shared libraries (dpkg-shlibdeps): $depends"
[ -n "$(field Maintainer)" ] && [ -n "$(field Description)" ] &&
  [ -n "$(field Section)" ] && [ -n "$(field Priority)" ] ||
  fail "Maintainer, Description, Section or Priority is missing"
contents=$(dpkg-deb -c "$deb")
for path in ./usr/bin/plantraild ./usr/bin/plantrail \
  ./lib/systemd/system/plantraild.service ./etc/plantrail/plantraild.toml \
  ./usr/share/doc/plantrail/copyright; do
  grep -q " $path\$" <<<"$contents" || fail "the package lacks $path"
done
! grep -q ' ./var/lib/plantrail' <<<"$contents" ||
  fail "the package ships /var/lib/plantrail: removing it would delete data"
dpkg-deb -x "$deb" "$work/extracted"
for binary in plantraild plantrail; do
  if readelf -S "$work/extracted/usr/bin/$binary" | grep -q '\.debug_info'; then
    fail "/usr/bin/$binary is not stripped"
  fi
done
rm -rf "$work/extracted"

# --- install and run it in the throwaway root -------------------------------
status=0
unshare --mount --net --pid --fork --kill-child \
  bash "$0" --inside "$work" "$deb" "$version" || status=$?
if [ ! -e "$work/inside.started" ]; then
  fail "cannot make mount, network and PID namespaces (unshare exit" \
    "$status): the test needs root in a kernel that allows them"
fi
[ "$status" -eq 0 ] && [ -e "$work/inside.passed" ] ||
  fail "in the throwaway root (exit $status); see above"
log "passed in $((SECONDS - start)) s"

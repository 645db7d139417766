# Shared by bench/run and bench/changes (sourced, not run): starts and stops
# a PostgreSQL of its own in $work/pg, on a Unix socket in $work/pgsock
# (no TCP). Sets pg_ctl (empty once stopped) and conninfo.

# PostgreSQL refuses to run as root.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
start_postgres() {
  local pgbin
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  pg_ctl="$pgbin/pg_ctl"
  mkdir -p "$work/pg" "$work/pgsock"
  chmod 777 "$work/pgsock"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$work/pg"; fi
  as_postgres "$pgbin/initdb" -D "$work/pg" -A trust -U bench >/dev/null
  as_postgres "$pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-k $work/pgsock -p 54329 -c listen_addresses=''" start >/dev/null
  conninfo="host=$work/pgsock port=54329 user=bench dbname=postgres"
}
stop_postgres() {
  if [ -n "${pg_ctl:-}" ]; then
    as_postgres "$pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  fi
  pg_ctl=""
}

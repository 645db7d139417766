# Shared by bench/run and bench/soak (sourced, not run): starts and stops
# plantraild from $bin on a free loopback port. Sets server_pid, address
# (host:port) and token (the admin token's file); writes the server's
# output to $work/server.out and $work/server.err.
start_server() {  # start_server DATA_DIR [plantraild flags]
  local data=$1
  shift
  "$bin/services/plantraild" --data-dir "$data" --listen 127.0.0.1:0 "$@" \
    >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  for _ in $(seq 1 300); do
    if grep -q "listening on" "$work/server.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  address=$(grep -o '127.0.0.1:[0-9]*' "$work/server.out" | head -1)
  token="$data/admin.token"
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}
load() { "$bin/bench/plantrail_load" "$@" --server "$address" --token-file "$token"; }

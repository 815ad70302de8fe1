#!/usr/bin/env bash
# Cluster mode on this machine (docs/cluster.md): a PostgreSQL 15 (initdb in a temporary folder, run as the unprivileged
# user postgres), Mosquitto with the plant settings (config/mosquitto/plant.conf), N monitor nodes and the simulator as
# its own process, all on free loopback ports. Prints each node's HTTP port and PID; Ctrl+C stops everything.
#   bash scripts/cluster-demo.sh [--nodes N] [--machines M] [--rate HZ]
set -euo pipefail
cd "$(dirname "$0")/.."

nodes=3 machines=30 rate=50
while (($#)); do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --machines) machines="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    *) echo "usage: bash scripts/cluster-demo.sh [--nodes N] [--machines M] [--rate HZ]" >&2; exit 2 ;;
  esac
done

pg=/usr/lib/postgresql/15/bin
for need in "$pg/postgres:postgresql-15" "/usr/sbin/mosquitto:mosquitto"; do
  if [ ! -x "${need%%:*}" ]; then echo "error: ${need%%:*} is missing: apt-get install -y ${need##*:}" >&2; exit 2; fi
done
id postgres >/dev/null 2>&1 || { echo "error: user postgres is missing: apt-get install -y postgresql-15" >&2; exit 2; }

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/tsviz-cluster.XXXXXX)
chmod 755 "$work"
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  as_postgres "$pg/pg_ctl" -D "$work/pg" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop INT TERM EXIT

# PostgreSQL: the history, the nodes' membership and Quartz's clustered job store, in database tsviz.
pg_port=$(free_port)
mkdir -p "$work/pg" "$work/socket"; chown postgres:postgres "$work/pg" "$work/socket"
as_postgres "$pg/initdb" -D "$work/pg" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
as_postgres "$pg/pg_ctl" -D "$work/pg" -l "$work/pg/server.log" -w \
  -o "-p $pg_port -k $work/socket -c listen_addresses=127.0.0.1" start >/dev/null
"$pg/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres tsviz
connection="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=tsviz"

# Mosquitto with the plant settings (persistence, large queues: QoS 1 bursts are not dropped).
mqtt_port=$(free_port)
mkdir -p "$work/mosquitto"
{ echo "listener $mqtt_port 127.0.0.1"; echo "allow_anonymous true"; echo "user root"
  echo "persistence_location $work/mosquitto/"; echo "log_dest file $work/mosquitto/mosquitto.log"
  cat config/mosquitto/plant.conf; } > "$work/mosquitto/mosquitto.conf"
/usr/sbin/mosquitto -c "$work/mosquitto/mosquitto.conf" & pids+=($!)

dotnet build src/TSViz.Monitor -c Release -v quiet -nologo >/dev/null
monitor=(dotnet src/TSViz.Monitor/bin/Release/net10.0/linux-x64/TSViz.Monitor.dll)

echo "PostgreSQL  127.0.0.1:$pg_port (database tsviz)"
echo "Mosquitto   127.0.0.1:$mqtt_port"
for ((i = 1; i <= nodes; i++)); do
  http=$(free_port)
  env TSVIZ_Monitor__Mqtt__EmbeddedBroker=false TSVIZ_Monitor__Mqtt__Port="$mqtt_port" \
      TSVIZ_Monitor__Simulator__Enabled=false TSVIZ_Monitor__HttpUrl="http://127.0.0.1:$http" \
      TSVIZ_Monitor__History__Provider=postgres TSVIZ_Monitor__History__ConnectionString="$connection" \
      TSVIZ_Monitor__Cluster__Enabled=true TSVIZ_Monitor__Cluster__NodeName="node$i" \
      TSVIZ_Monitor__Cluster__SiloPort="$(free_port)" TSVIZ_Monitor__Cluster__GatewayPort="$(free_port)" \
      "${monitor[@]}" run > "$work/node$i.log" 2>&1 & pids+=($!)
  echo "node$i       http://127.0.0.1:$http  pid $!  log $work/node$i.log"
done

"${monitor[@]}" simulate --port "$mqtt_port" --machines "$machines" --rate "$rate" > "$work/simulator.log" 2>&1 & pids+=($!)
echo "simulator   $machines machines at $rate Hz  pid $!"
echo "Ctrl+C stops everything."
wait

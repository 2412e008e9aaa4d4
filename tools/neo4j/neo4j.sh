#!/usr/bin/env bash
# A real Neo4j 5.26 server (Java 17, from Maven Central) with Bolt on 127.0.0.1, for development and CI.
#
#   tools/neo4j/neo4j.sh start    build if needed, start, wait until Bolt accepts connections, print the URI
#   tools/neo4j/neo4j.sh stop     stop cleanly (SIGTERM, the DBMS shuts down), remove the temporary data
#   tools/neo4j/neo4j.sh status   exit 0 and print the URI when running
#   tools/neo4j/neo4j.sh uri      print the Bolt URI
#
# Environment: IAMGRAPH_NEO4J_PORT (default 7697), NEO4J_PASSWORD (default iamgraph-test; empty: auth
# disabled), IAMGRAPH_NEO4J_STATE (pid, log and data; default tools/neo4j/target/run),
# IAMGRAPH_NEO4J_HEAP (default 2g), IAMGRAPH_NEO4J_WAIT (seconds to wait for Bolt, default 180).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${IAMGRAPH_NEO4J_PORT:-7697}"
PASSWORD="${NEO4J_PASSWORD-iamgraph-test}"
STATE="${IAMGRAPH_NEO4J_STATE:-$HERE/target/run}"
HEAP="${IAMGRAPH_NEO4J_HEAP:-2g}"
WAIT="${IAMGRAPH_NEO4J_WAIT:-180}"
PIDFILE="$STATE/neo4j.pid"
LOG="$STATE/neo4j.log"
JAR="$HERE/target/iamgraph-neo4j-server-1.0.0.jar"

say() { echo "neo4j.sh: $*" >&2; }

running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null
}

build() {
  command -v java >/dev/null || { say "java not found (Neo4j 5.26 needs Java 17)"; exit 3; }
  local stale=0
  [[ -f "$JAR" && -f "$HERE/target/lib/.complete" ]] || stale=1
  if [[ $stale == 0 ]] && [[ -n "$(find "$HERE/pom.xml" "$HERE/src" -newer "$JAR" -type f 2>/dev/null)" ]]; then
    stale=1
  fi
  if [[ $stale == 1 ]]; then
    command -v mvn >/dev/null || { say "mvn not found (needed once to fetch Neo4j from Maven Central)"; exit 3; }
    say "building (mvn -q -B package; first time downloads Neo4j $(grep -o '<neo4j.version>[^<]*' "$HERE/pom.xml" | cut -d'>' -f2))"
    local t0=$SECONDS
    (cd "$HERE" && mvn -q -B package) >&2  # stdout carries only the URI
    touch "$HERE/target/lib/.complete"
    say "built in $((SECONDS - t0)) s"
  fi
}

start() {
  if running; then
    say "already running (pid $(cat "$PIDFILE"))"
    echo "bolt://127.0.0.1:$PORT"
    return 0
  fi
  if port_open; then
    say "port $PORT is already in use by another process; set IAMGRAPH_NEO4J_PORT"
    exit 1
  fi
  build
  mkdir -p "$STATE"
  rm -rf "$STATE/data"
  local t0=$SECONDS
  # the module openings Neo4j's own launcher passes (page cache and Netty use direct buffers)
  nohup java "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-exports=java.base/sun.nio.ch=ALL-UNNAMED \
    -Dio.netty.tryReflectionSetAccessible=true \
    -cp "$JAR:$HERE/target/lib/*" dev.iamgraph.neo4j.EmbeddedNeo4j "$STATE/data" "$PORT" "$PASSWORD" \
    >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  while ! port_open; do
    if ! running; then
      say "the server exited during start; last lines of $LOG:"
      tail -n 30 "$LOG" >&2
      rm -f "$PIDFILE"
      exit 1
    fi
    if (( SECONDS - t0 > WAIT )); then
      say "Bolt did not accept connections within $WAIT s; stopping"
      stop
      exit 1
    fi
    sleep 0.5
  done
  # the port opens before the DBMS has set the password; wait for the ready line
  while ! grep -q " ready$" "$LOG"; do
    if (( SECONDS - t0 > WAIT )) || ! running; then
      say "the server did not report ready"; tail -n 30 "$LOG" >&2; stop; exit 1
    fi
    sleep 0.2
  done
  say "started in $((SECONDS - t0)) s (pid $(cat "$PIDFILE"), log $LOG)"
  echo "bolt://127.0.0.1:$PORT"
}

stop() {
  if ! running; then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  local pid
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after 60 s; killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
  rm -rf "$STATE/data"
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if running; then echo "bolt://127.0.0.1:$PORT"; else say "not running"; exit 1; fi ;;
  uri) echo "bolt://127.0.0.1:$PORT" ;;
  build) build ;;
  *) echo "usage: $0 start|stop|status|uri|build" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Operator faults: messages flow from a REST client (fault.js rest: one
# Idempotency-Key per message, resent on 5xx and broken connections)
# through smsgate ($1) to the SMSC simulator, which misbehaves the way real
# SMSCs do, one fault per scenario:
#   reset     the connection is reset (TCP RST) every 60 submits, mid-window
#   hang      the SMSC stops answering at every 150th submit of a session
#             (socket open, silent): smsgate must see it within
#             enquire_link_interval + response_timeout and bind again
#   throttle  20 % of submits answered ESME_RTHROTTLED
#   late      5 % of responses come 3 s late, after the 2 s timeout
#   nack      10 % of submits answered generic_nack (ESME_RSYSERR)
#   seqwrap   both sides start their sequence_numbers at 2147483000: they
#             pass 0x7FFFFFFF and start again at 1 within the run
#   ids-case  ids in lower-case hex, receipts in upper-case hex (id_mode auto)
#   ids-hexdec ids in hex, receipts in decimal (id_mode hex, receipt decimal)
#   ids-dechex ids in decimal, receipts in upper-case hex (the reverse)
#   early     receipts come before their submit_sm_resp (latency 300 ms,
#             receipt at once)
# For each, the checker (fault.js check) must find LOST 0, PHANTOM 0,
# DLR_LOST 0 (every acknowledged message has its delivered webhook with its
# id), DLR_MISMATCH 0 and DUP within its bound: the connector's window per
# reset or hang (what may be in flight), one per late response (the part is
# sent again after its timeout; the SMSC took both), 0 otherwise.
#
#   operator.sh BIN [SCENARIO|all] [N] [RATE]
# N messages per scenario (default 400) at RATE a second (default 150).
# `make soak` runs every scenario with 20,000 messages at 1,000/s. Prints one
# verdict line per scenario, and appends it as JSON to $FAULT_JSON when set;
# every scenario runs even when one fails, and the script then exits 1.
# With SG_TEST_STORE_URL set to a postgres:// URL (ctest fault-pg/operator)
# each scenario's gateway gets a fresh database on that server, dropped when
# the scenario ends; else a SQLite file.
set -u
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
ONLY=${2:-all}
N=${3:-400}
RATE=${4:-150}
HERE=$(cd "$(dirname "$0")" && pwd)
JS=$HERE/fault.js
. "$HERE/lib/gateway.bash" # wait_for, fault_cleanup, free_ports, sg_store_for
KEY=op-key
WINDOW=32
PIDS=()
GW=
T=

trap fault_cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $SCEN: $*" >&2
  for f in "$T"/*.log; do
    [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}

healthy() { curl -s -m 1 "$BASE/healthz" 2>/dev/null | grep -q '"status":"ok"'; }
bound() { grep -q ': bound ' "$T/sim.log" 2>/dev/null; }
drained() {
  local s
  for s in queued sending scheduled; do
    curl -s -m 2 -H "Authorization: Bearer $KEY" "$BASE/v1/messages?status=$s&limit=1" |
      grep -q '"data":\[\]' || return 1
  done
}
hooks_done() {
  [ "$(awk '$3 == "delivered" && $1 != "-"' "$T/hooks.txt" 2>/dev/null | cut -d' ' -f1 |
    sort -u | wc -l)" -ge "$ACKED" ]
}
# The simulator's final counter NAME (from its last stats line).
stat() { grep '"final":true' "$T/sim.out" | tail -n 1 | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# Per scenario: the simulator's options, the connector's extra keys, which
# counter says the fault happened, and the DUP allowed per fault.
scenario() {
  SIM_OPTS=()
  CONN=""
  COUNTER=""
  PER_FAULT=0
  case $1 in
  reset) SIM_OPTS=(--drop-every 60 --drop-reset) COUNTER=resets PER_FAULT=$WINDOW ;;
  hang)
    SIM_OPTS=(--hang-every 150)
    CONN="enquire_link_interval: 1s, response_timeout: 1s,"
    COUNTER=hangs PER_FAULT=$WINDOW
    ;;
  throttle) SIM_OPTS=(--throttle 0.2) COUNTER=resp_throttled ;;
  late)
    SIM_OPTS=(--late 0.05 --late-ms 3000)
    CONN="response_timeout: 2s,"
    COUNTER=late PER_FAULT=1
    ;;
  nack) SIM_OPTS=(--nack 0.1) COUNTER=nacks ;;
  seqwrap)
    SIM_OPTS=(--first-sequence 2147483000)
    CONN="first_sequence: 2147483000,"
    COUNTER=submits
    ;;
  ids-case) SIM_OPTS=(--id-format hex --receipt-id-format hex-upper) COUNTER=receipts_acked ;;
  ids-hexdec)
    SIM_OPTS=(--id-format hex --receipt-id-format dec)
    CONN="id_mode: hex, receipt_id_mode: decimal,"
    COUNTER=receipts_acked
    ;;
  ids-dechex)
    SIM_OPTS=(--id-format dec --receipt-id-format hex-upper)
    CONN="id_mode: decimal, receipt_id_mode: hex,"
    COUNTER=receipts_acked
    ;;
  early) SIM_OPTS=(--latency 300 --dlr-delay 0 --dlr-early) COUNTER=receipts_acked ;;
  *) return 1 ;;
  esac
}

# The hang scenario: how long from each "stops answering" to the next bind
# (smsgate saw the silence, closed, and bound again), in ms; the largest.
max_detect_ms() {
  awk '/stops answering/ { if (!t) t = $1 } / bound / { if (t) { d = $1 - t; if (d > m) m = d; t = 0 } }
       END { if (t) print -1; else print m + 0 }' "$T/sim.log"
}

run() {
  SCEN=$1
  scenario "$SCEN" || { echo "unknown scenario '$SCEN'" >&2; exit 2; }
  T=$(mktemp -d "${TMPDIR:-/tmp}/operator.XXXXXX")
  read -r HTTP SIM HOOK <<<"$(free_ports 3)"
  BASE=http://127.0.0.1:$HTTP
  sg_store_for "$T/gw"
  cat >"$T/gw.yaml" <<EOF
store: $STORE
http: {listen: 127.0.0.1:$HTTP}
accounts:
  - {name: op, api_key: $KEY, default_region: RU,
     callback_url: "http://127.0.0.1:$HOOK/hook",
     webhook_events: [delivered, undeliverable, expired, rejected, failed]}
connectors:
  - {name: operator, type: smpp, host: 127.0.0.1, port: $SIM, system_id: smsgate,
     window: $WINDOW, $CONN reconnect_min: 100ms, reconnect_max: 500ms}
routes:
  - {prefix: "+", connectors: [operator]}
webhooks: {allow_private_networks: true, retry_min: 200ms, retry_max: 1s}
log: {level: ${LOG_LEVEL:-warn}}
EOF
  # stderr (binds, drops, hangs) with a time stamp in ms on each line
  "$BIN" sim smsc --port "$SIM" --record "$T/record.txt" --dlr-delay 100 \
    --stats-interval 0 "${SIM_OPTS[@]}" >"$T/sim.out" \
    2> >(while IFS= read -r l; do echo "$(date +%s%3N) $l"; done >"$T/sim.log") &
  SIMP=$!
  PIDS+=($SIMP)
  node "$JS" receiver "$HOOK" "$T/hooks.txt" >"$T/receiver.log" 2>&1 &
  PIDS+=($!)
  RECP=$!
  wait_for 10 grep -qs "receiver listening" "$T/receiver.log" || fail "receiver not ready"
  "$BIN" serve -c "$T/gw.yaml" >"$T/gw.log" 2>&1 &
  GW=$!
  wait_for 30 healthy || fail "gateway not ready"
  wait_for 30 bound || fail "the connector did not bind"

  local n=$N
  [ "$SCEN" = seqwrap ] && [ "$n" -lt 800 ] && n=800 # past the wrap
  node "$JS" rest "$BASE" "$KEY" "$n" 16 "$T/rest.jsonl" "$RATE" >"$T/rest.log" 2>&1 ||
    fail "the REST client failed"
  # The long form (make soak) needs longer: each hang costs about 3 s.
  local drain_s=$((120 + n / 50))
  wait_for "$drain_s" drained || fail "messages left queued after $drain_s s"
  ACKED=$(grep -c '"outcome":"ack"' "$T/rest.jsonl")
  local hooks_s=$((60 + n / 200))
  wait_for "$hooks_s" hooks_done || echo "note: not every delivered webhook arrived within $hooks_s s"
  kill "$GW" && wait "$GW"
  GW=
  kill "$SIMP" && wait "$SIMP" # the simulator writes its record and counters out
  kill "$RECP"

  local faults window=$PER_FAULT n_fault
  n_fault=$(stat "$COUNTER")
  [ -n "$n_fault" ] && [ "$n_fault" -gt 0 ] || fail "the fault never happened ($COUNTER = ${n_fault:-?})"
  faults=$n_fault
  [ "$PER_FAULT" -eq 0 ] && faults=0
  local extra=""
  case $SCEN in
  hang)
    local ms
    ms=$(max_detect_ms)
    # enquire_link_interval + response_timeout, then reconnect_max, + 1 s slack
    [ "$ms" -ge 0 ] && [ "$ms" -le 3500 ] ||
      fail "a silent SMSC was seen and left after $ms ms (limit 2,000 + reconnect)"
    extra="; silent SMSC left and bound again within $ms ms at most"
    ;;
  seqwrap)
    # One session carried more than the 647 requests left before the wrap.
    [ "$(stat binds)" -eq 1 ] && [ "$n_fault" -gt 647 ] ||
      fail "no wrap: $(stat binds) binds, $n_fault submits"
    local r
    r=$(stat receipts_acked)
    [ "$r" -gt 647 ] || fail "the simulator's own sequence did not wrap: $r receipts"
    extra="; sequence_numbers wrapped on both sides"
    ;;
  esac
  echo "== $SCEN: $(cat "$T/rest.log"); $COUNTER $n_fault$extra"
  node "$JS" check --record "$T/record.txt" --rest "$T/rest.jsonl" --hooks "$T/hooks.txt" \
    --faults "$faults" --window "$window" ${FAULT_JSON:+--json "$T/verdict.json"} ||
    fail "the ledgers do not match"
  if [ -n "${FAULT_JSON:-}" ]; then
    node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      v.scenario = process.argv[2]; console.log(JSON.stringify(v));' \
      "$T/verdict.json" "$SCEN" >>"$FAULT_JSON"
  fi
  fault_cleanup
}

ALL="reset hang throttle late nack seqwrap ids-case ids-hexdec ids-dechex early"
[ "$ONLY" = all ] && set -- $ALL || set -- $ONLY
# Each scenario in a subshell of its own: one that fails does not keep the
# others from running (and giving their figures).
FAILED=()
for s in "$@"; do
  (
    trap fault_cleanup EXIT
    run "$s"
  ) || FAILED+=("$s")
done
[ ${#FAILED[@]} -eq 0 ] || { echo "FAIL: ${FAILED[*]}" >&2; exit 1; }
echo "PASS"

#!/usr/bin/env bash
# sim_smsc.sh - black-box test of `smsgate sim smsc`: it starts on a free
# port (port 0; the port is read from its "listening on" line), takes an
# SMPP bind and a submit_sm over a plain TCP connection, answers "stats" on
# stdin, and on SIGTERM exits 0 after printing its final counters as one
# JSON line. Readiness and exit are polled for, never slept for.
#
# usage: sim_smsc.sh /path/to/smsgate
set -euo pipefail

SMSGATE=${1:?usage: sim_smsc.sh /path/to/smsgate}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sg-sim-it.XXXXXX")
SIM_PID=""

cleanup() {
  exec 3>&- 2>/dev/null || true
  exec 4>&- 2>/dev/null || true
  if [[ -n "$SIM_PID" ]] && kill -0 "$SIM_PID" 2>/dev/null; then
    kill -KILL "$SIM_PID" 2>/dev/null || true
    wait "$SIM_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- simulator stdout:" >&2
  cat "$WORK/out" >&2 || true
  echo "--- simulator stderr:" >&2
  cat "$WORK/err" >&2 || true
  exit 1
}

# Polls (every 50 ms, up to $2 seconds) until the command in $1 succeeds.
wait_for() {
  local cond=$1 limit=$(( ${2:-10} * 20 )) i=0
  until eval "$cond"; do
    (( ++i > limit )) && return 1
    sleep 0.05
  done
}

# Reads exactly $1 octets from fd 3 and prints them as hex.
read_hex() {
  timeout 5 head -c "$1" <&3 | od -An -tx1 | tr -d ' \n'
}

# stdin is a FIFO held open here (read-write, so opening it never blocks).
mkfifo "$WORK/ctl"
exec 4<>"$WORK/ctl"
"$SMSGATE" sim smsc --port 0 --id-start 1 --stats-interval 0 \
  --record "$WORK/record" <&4 >"$WORK/out" 2>"$WORK/err" &
SIM_PID=$!

wait_for 'grep -q "^listening on 127.0.0.1:[0-9]" "$WORK/out"' 10 ||
  fail "no 'listening on' line"
PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out")
[[ "$PORT" =~ ^[0-9]+$ && "$PORT" -gt 0 ]] || fail "bad port '$PORT'"

# It accepts a TCP connection.
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to port $PORT"

# bind_transceiver (SMPP 3.4 section 4.1.5): system_id "test", password
# "pw", system_type "", interface_version 0x34, addr_ton 0, addr_npi 0,
# address_range "". 29 octets, sequence_number 1.
printf '\x00\x00\x00\x1d\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x01' >&3
printf 'test\x00pw\x00\x00\x34\x00\x00\x00' >&3
# bind_transceiver_resp: 16 + "smsgate-sim\0" (12) + sc_interface_version
# TLV (0x0210, length 1, 0x34) = 33 octets.
NL_SYSID=736d73676174652d73696d00 # "smsgate-sim\0"
RESP=$(read_hex 33)
[[ "$RESP" == "00000021800000090000000000000001${NL_SYSID}0210000134" ]] ||
  fail "unexpected bind response $RESP"

# submit_sm (section 4.4.1) from 123 to 456, "hi", sequence_number 2.
printf '\x00\x00\x00\x29\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x02' >&3
printf '\x00\x01\x01123\x00\x01\x01456\x00\x00\x00\x00\x00\x00' >&3
printf '\x00\x00\x00\x00\x02hi' >&3
# submit_sm_resp: 16 + message_id "1\0" (the first id, in hex).
RESP=$(read_hex 18)
[[ "$RESP" == "000000128000000400000000000000023100" ]] ||
  fail "unexpected submit_sm_resp $RESP"

# A control line on stdin: the counters come back as JSON on stdout.
echo stats >&4
wait_for 'grep -q "\"final\":false.*\"submits\":1," "$WORK/out"' 10 ||
  fail "no stats reply"

# SIGTERM: unbinds us (we answer nothing: it closes after its grace time),
# prints the final counters, exits 0.
kill -TERM "$SIM_PID"
wait_for '! kill -0 "$SIM_PID" 2>/dev/null' 10 || fail "did not exit"
set +e
wait "$SIM_PID"
STATUS=$?
set -e
SIM_PID=""
[[ $STATUS -eq 0 ]] || fail "exit status $STATUS"

FINAL=$(grep '"final":true' "$WORK/out" | tail -n 1)
[[ -n "$FINAL" ]] || fail "no final counters"
for want in '"type":"stats"' '"submits":1,' '"submit_sm":1,' '"binds":1,' \
            '"resp_ok":1,' '"connections":1,'; do
  [[ "$FINAL" == *"$want"* ]] || fail "final counters lack $want: $FINAL"
done

# The record names what arrived.
grep -qx 'id=1 src=123 dst=456 dc=0 esm=0 ref=0 seq=1 total=1 rd=0 sm=6869' \
  "$WORK/record" || fail "record: $(cat "$WORK/record")"

echo "ok: sim smsc on port $PORT"

#!/usr/bin/env bash
# sim_sink.sh - black-box test of `smsgate sim sink`: it starts on a free
# port (port 0; read from its "listening on" line), answers signed, badly
# signed and unsigned webhooks 200 over one keep-alive connection (curl),
# counts them by status and signature, serves the counts to a GET, answers
# a chunked body 411, prints its counts on SIGUSR1 and, on SIGTERM, exits 0
# after a final JSON line. Bad options exit 2. Polled, never slept for.
#
# usage: sim_sink.sh /path/to/smsgate
set -euo pipefail

SMSGATE=${1:?usage: sim_sink.sh /path/to/smsgate}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sg-sink-it.XXXXXX")
PID=""
SECRET=it-secret

cleanup() {
  if [[ -n "$PID" ]] && kill -0 "$PID" 2>/dev/null; then
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- sink stdout:" >&2
  cat "$WORK/out" >&2 || true
  echo "--- sink stderr:" >&2
  cat "$WORK/err" >&2 || true
  exit 1
}

wait_for() {
  local cond=$1 limit=$(( ${2:-10} * 20 )) i=0
  until eval "$cond"; do
    (( ++i > limit )) && return 1
    sleep 0.05
  done
}

sign() { # body: prints sha256=<hex> of HMAC-SHA256(SECRET, body)
  printf '%s' "$1" | openssl dgst -sha256 -hmac "$SECRET" | sed 's/^.*= */sha256=/'
}

# Usage errors.
set +e
"$SMSGATE" sim sink --port 70000 >/dev/null 2>"$WORK/usage"
rc=$?
set -e
[[ $rc -eq 2 ]] || fail "--port 70000 exited $rc, want 2"
grep -q "bad option or value: --port 70000" "$WORK/usage" || fail "no usage message"

"$SMSGATE" sim sink --port 0 --secret "$SECRET" >"$WORK/out" 2>"$WORK/err" &
PID=$!
wait_for 'grep -q "^listening on 127.0.0.1:[0-9]" "$WORK/out"' 10 ||
  fail "no 'listening on' line"
PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$WORK/out")
URL="http://127.0.0.1:$PORT/hook"

SENT='{"event":"message.status","message_id":"m1","status":"sent"}'
DLVR='{"event":"message.status","message_id":"m1","status":"delivered"}'
# One curl, one keep-alive connection, four POSTs: good, good, bad, unsigned.
codes=$(curl -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
  -H "X-Smsgate-Signature: $(sign "$SENT")" --data-binary "$SENT" "$URL" --next \
  -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
  -H "X-Smsgate-Signature: $(sign "$DLVR")" --data-binary "$DLVR" "$URL" --next \
  -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
  -H "X-Smsgate-Signature: $(sign "$SENT")" --data-binary "$DLVR" "$URL" --next \
  -s -o /dev/null -w '%{http_code} %{num_connects}\n' \
  --data-binary "$DLVR" "$URL")
[[ "$codes" == $'200 1\n200 0\n200 0\n200 0' ]] || fail "answers: $codes"

# A chunked body is refused (411) and the connection closed.
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Transfer-Encoding: chunked" \
  --data-binary "$SENT" "$URL")
[[ "$code" == 411 ]] || fail "chunked body answered $code, want 411"

counts=$(curl -sf "http://127.0.0.1:$PORT/count")
want='{"total":4,"delivered":3,"by_status":{"sent":1,"delivered":3},"bad_signature":2,"bad_request":1,"no_status":0,"other":0,'
[[ "$counts" == "$want"* ]] || fail "counts: $counts"
[[ "$counts" == *'"connections":3,"callbacks":0,"last_callback_ms":0}' ]] || fail "connections: $counts"

# A Kannel dlr-url callback: answered 200 and counted, not a count request.
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/dlr?s=7&t=1")
[[ "$code" == 200 ]] || fail "dlr callback answered $code"
counts=$(curl -sf "http://127.0.0.1:$PORT/count")
[[ "$counts" == *'"callbacks":1,'* ]] || fail "callbacks: $counts"

kill -USR1 "$PID"
wait_for '[[ $(grep -c "\"total\":4" "$WORK/out") -ge 1 ]]' 10 || fail "no counts on SIGUSR1"

kill -TERM "$PID"
set +e
wait "$PID"
rc=$?
set -e
PID=""
[[ $rc -eq 0 ]] || fail "exit status $rc after SIGTERM"
tail -n 1 "$WORK/out" | grep -q '"total":4,.*"final":true}$' || fail "no final line"
echo "ok: sim sink"

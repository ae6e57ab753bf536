#!/usr/bin/env bash
# Black-box test of `smsgate segments`: the JSON it prints for texts in each
# encoding, and its exit codes and messages for malformed input and usage
# errors. Usage: cli_segments.sh /path/to/smsgate
set -u

SMSGATE=${1:?usage: cli_segments.sh /path/to/smsgate}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0

fail() {
  echo "FAIL: $*" >&2
  FAILS=$((FAILS + 1))
}

# Every run keeps its stdout in $TMP/out.N; checks of the JSON are collected
# and evaluated at the end by one python3 process (it is slow to start).
RUN=0
: >"$TMP/checks"

# run NAME EXPECTED_RC ARGS... : runs smsgate segments, stdin from /dev/null.
run() {
  run_stdin "$1" "$2" /dev/null "${@:3}"
}

# run_stdin NAME EXPECTED_RC INPUT_FILE ARGS...
run_stdin() {
  local name=$1 want=$2 input=$3
  shift 3
  RUN=$((RUN + 1))
  "$SMSGATE" segments "$@" <"$input" >"$TMP/out.$RUN" 2>"$TMP/err"
  local rc=$?
  cp "$TMP/out.$RUN" "$TMP/out"
  [ "$rc" -eq "$want" ] || fail "$name: exit $rc, want $want ($(cat "$TMP/err"))"
}

# check NAME PYTHON_EXPR : the expression, with j = the JSON of the last run,
# must be true.
check() {
  printf '%s\t%s\t%s\n' "$RUN" "$1" "$2" >>"$TMP/checks"
}

# Evaluates the collected checks; prints one line per failure.
check_all() {
  python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
bad = 0
for line in open(tmp + "/checks", encoding="utf-8"):
    run, name, expr = line.rstrip("\n").split("\t", 2)
    try:
        j = json.load(open("%s/out.%s" % (tmp, run), encoding="utf-8"))
        ok = eval(expr)
    except Exception as e:
        ok = False
        expr += " (%s)" % e
    if not ok:
        bad += 1
        print("FAIL: %s: %s" % (name, expr), file=sys.stderr)
sys.exit(min(bad, 100))
PY
}

# stderr_has NAME TEXT ; stdout_empty NAME
stderr_has() {
  grep -qF -- "$2" "$TMP/err" || fail "$1: stderr lacks '$2': $(cat "$TMP/err")"
}
stdout_empty() {
  [ ! -s "$TMP/out" ] || fail "$1: stdout not empty: $(head -c 200 "$TMP/out")"
}

# The longer inputs, written once.
python3 - "$TMP" <<'PY' || exit 1
import sys
inputs = {
    "long161": "a" * 160 + "b",
    "edge": "a" * 152 + "\u20ac" + "b" * 10,
    "emoji": "\u0436" * 66 + "\U0001F600" + "\u0436" * 10,
    "turkish": "G\u00fcnayd\u0131n " * 5 + "\u015f" * 55,
    "quote": "It\u2019s " + "x" * 95,
    "long": "a" * 1531,
}
for name, text in inputs.items():
    open(sys.argv[1] + "/" + name, "w", encoding="utf-8").write(text)
PY
long161=$(cat "$TMP/long161")
edge=$(cat "$TMP/edge")
emoji=$(cat "$TMP/emoji")
turkish=$(cat "$TMP/turkish")
quote=$(cat "$TMP/quote")

# --- plain GSM 7-bit, one part ----------------------------------------------
run hello 0 --text hello
check hello 'j["encoding"] == "gsm7" and j["national"] is None'
check hello 'j["characters"] == 5 and j["units"] == 5 and j["replaced"] == 0'
check hello 'j["parts"] == 1 and len(j["segments"]) == 1'
check hello 'j["segments"][0] == {"udh": "", "user_data": "68656c6c6f", "tp_ud": "e8329bfd06", "tp_udl": 5, "units": 5, "characters": 5}'

# --- 161 characters: two parts, exact UDH and TP-UD with a fill bit ----------
run two-parts 0 --text "$long161" --ref 42
check two-parts 'j["parts"] == 2 and j["units"] == 161'
check two-parts '[s["udh"] for s in j["segments"]] == ["0500032a0201", "0500032a0202"]'
check two-parts '[s["units"] for s in j["segments"]] == [153, 8]'
check two-parts 'len(bytes.fromhex(j["segments"][0]["tp_ud"])) == 140 and j["segments"][0]["tp_udl"] == 160'
check two-parts 'j["segments"][1]["tp_ud"] == "0500032a0202c2e170381c0e8b01"'
check two-parts 'j["segments"][1]["user_data"] == "6161616161616162"'

# --- the same with a 16-bit reference ---------------------------------------
run ref16 0 --text "$long161" --ref16 --ref 4660
check ref16 'j["segments"][0]["udh"] == "06080412340201"'
check ref16 '[s["units"] for s in j["segments"]] == [152, 9]'

# --- an escape pair is never split ------------------------------------------
run escape-edge 0 --text "$edge"
check escape-edge '[s["units"] for s in j["segments"]] == [152, 12]'
check escape-edge 'j["segments"][1]["user_data"].startswith("1b65")'

# --- UCS-2, and a surrogate pair at a part edge ------------------------------
run ucs2 0 --text "Привет"
check ucs2 'j["encoding"] == "ucs2" and j["units"] == 6 and j["parts"] == 1'
check ucs2 'j["segments"][0]["user_data"] == "041f04400438043204350442"'
check ucs2 'j["segments"][0]["tp_ud"] == j["segments"][0]["user_data"] and j["segments"][0]["tp_udl"] == 12'
run surrogate-edge 0 --text "$emoji"
check surrogate-edge 'j["encoding"] == "ucs2" and j["units"] == 78 and j["characters"] == 77'
check surrogate-edge '[s["units"] for s in j["segments"]] == [66, 12]'
check surrogate-edge 'j["segments"][1]["user_data"].startswith("d83dde00")'

# --- encodings forced --------------------------------------------------------
run force-ucs2 0 --text hi --encoding ucs2
check force-ucs2 'j["encoding"] == "ucs2" and j["segments"][0]["user_data"] == "00680069"'
run force-gsm7-bad 1 --text 'abc中d' --encoding gsm7
stdout_empty force-gsm7-bad
stderr_has force-gsm7-bad 'character U+4E2D at position 3 is not in the GSM 7-bit alphabet'

# --- national tables: Turkish in one part where UCS-2 needs two --------------
run turkish-plain 0 --text "$turkish"
check turkish-plain 'j["encoding"] == "ucs2" and j["parts"] == 2'
run turkish-national 0 --text "$turkish" --national
check turkish-national 'j["encoding"] == "gsm7" and j["parts"] == 1'
check turkish-national 'j["national"] == {"locking": "turkish", "single": None}'
check turkish-national 'j["segments"][0]["udh"] == "03250101" and j["units"] == 100'
run turkish-spanish-only 0 --text "$turkish" --languages spanish
check turkish-spanish-only 'j["encoding"] == "ucs2"'
run bad-language 2 --text x --languages klingon
stderr_has bad-language 'unknown language'

# --- smart encoding ----------------------------------------------------------
run smart-off 0 --text "$quote"
check smart-off 'j["encoding"] == "ucs2" and j["parts"] == 2 and j["replaced"] == 0'
run smart-on 0 --text "$quote" --smart
check smart-on 'j["encoding"] == "gsm7" and j["parts"] == 1 and j["replaced"] == 1'
check smart-on 'j["segments"][0]["user_data"].startswith("4974277320")'
run smart-no-saving 0 --text 'It’s ok' --smart
check smart-no-saving 'j["encoding"] == "ucs2" and j["replaced"] == 0'

# --- stdin, exactly as given --------------------------------------------------
printf 'hi\n' >"$TMP/in1"
run_stdin stdin 0 "$TMP/in1"
check stdin 'j["characters"] == 3 and j["segments"][0]["user_data"] == "68690a"'
run_stdin stdin-dash 0 "$TMP/in1" --text -
check stdin-dash 'j["characters"] == 3'
: >"$TMP/empty"
run_stdin empty 0 "$TMP/empty"
check empty 'j["parts"] == 1 and j["characters"] == 0 and j["segments"][0]["user_data"] == "" and j["segments"][0]["tp_ud"] == ""'

# --- errors: invalid UTF-8, too many parts -----------------------------------
printf 'abc\xffdef' >"$TMP/bad"
run_stdin bad-utf8 1 "$TMP/bad"
stdout_empty bad-utf8
stderr_has bad-utf8 'invalid UTF-8 at byte 3'
printf 'ab\xc3' >"$TMP/trunc"
run_stdin trunc-utf8 1 "$TMP/trunc"
stderr_has trunc-utf8 'invalid UTF-8 at byte 2'
run_stdin too-many 1 "$TMP/long"
stdout_empty too-many
stderr_has too-many 'text needs 11 parts, more than --max-parts 10'
run_stdin max-parts-11 0 "$TMP/long" --max-parts 11
check max-parts-11 'j["parts"] == 11 and j["segments"][10]["udh"] == "050003000b0b"'
run_stdin max-parts-2 1 "$TMP/long" --max-parts=2
stderr_has max-parts-2 'text needs 11 parts, more than --max-parts 2'

# --- usage -------------------------------------------------------------------
run help 0 --help
grep -q -- '--max-parts' "$TMP/out" || fail "help: no usage on stdout"
run bad-encoding 2 --text x --encoding latin1
stderr_has bad-encoding '--encoding must be auto, gsm7 or ucs2'
run bad-max-parts 2 --text x --max-parts 256
stderr_has bad-max-parts '--max-parts must be 1 to 255'
run zero-max-parts 2 --text x --max-parts 0
run missing-value 2 --text
stderr_has missing-value '--text needs a value'
run unknown-option 2 --text x --frobnicate
stderr_has unknown-option "unknown option '--frobnicate'"
stdout_empty unknown-option

check_all || FAILS=$((FAILS + $?))
if [ "$FAILS" -ne 0 ]; then
  echo "$FAILS check(s) failed" >&2
  exit 1
fi
echo "cli_segments: all checks passed"

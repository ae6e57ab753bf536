# bench/lib.sh - what the end-to-end benches (bench/e2e, bench/smpp-server)
# share: CPU time of a process and of each of its threads, read from /proc,
# and the per-thread report they print. Sourced, never run.

cpu_ms() { # pid: user+system CPU time so far, in ms (0 if gone)
  awk -v t="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / t) }' \
    "/proc/$1/stat" 2>/dev/null || echo 0
}

# threads_cpu pid: one "tid name cpu_ms write_calls write_bytes read_calls
# wait_ms switches" line per thread; wait_ms is the time it was runnable but
# waited for a core (run_delay of /proc/PID/task/TID/schedstat), switches its
# voluntary and involuntary context switches (status).
threads_cpu() {
  local t
  for t in /proc/$1/task/*; do
    awk -v t="$(getconf CLK_TCK)" -v id="${t##*/}" -v name="$(cat "$t/comm" 2>/dev/null)" \
      -v io="$(awk '/^syscw:/ { c = $2 } /^wchar:/ { b = $2 } /^syscr:/ { r = $2 } END { print c + 0, b + 0, r + 0 }' "$t/io" 2>/dev/null)" \
      -v wait="$(awk '{ print int($2 / 1000000) }' "$t/schedstat" 2>/dev/null)" \
      -v sw="$(awk '/ctxt_switches:/ { s += $2 } END { print s + 0 }' "$t/status" 2>/dev/null)" \
      '{ sub(/^.*\) /, ""); print id, name, int(($12 + $13) * 1000 / t), (io == "" ? "0 0 0" : io), wait + 0, sw + 0 }' "$t/stat" 2>/dev/null
  done
}

# threads_report PID N BEFORE AFTER: "smsgate threads: loop 812 ms (40.6
# us/message), sg-writer/1234 ..." from two threads_cpu snapshots, for N
# messages; the loop is the thread whose id is the process id, and threads
# that used under 10 ms are left out. The store's threads are named
# (sg-writer, sg-ckpt for its checkpoints, sg-sync for the log's fsync,
# sg-reader); a thread that wrote also shows its write calls (write,
# pwrite, sendmsg...) and bytes a message, and one that read its read calls
# (read, pread, recv...) a message, from /proc/PID/task/TID/io; and the time
# each waited, runnable, for a core and its context switches a message.
threads_report() {
  awk -v gw="$1" -v n="$2" 'NR == FNR { c0[$1] = $3; w0[$1] = $4; b0[$1] = $5; r0[$1] = $6
      q0[$1] = $7; s0[$1] = $8; next }
    { d = $3 - c0[$1]; if (d < 10) next; m = (n ? n : 1)
      w = ($4 - w0[$1]) / m; b = ($5 - b0[$1]) / m; r = ($6 - r0[$1]) / m
      printf "%s%s %d ms (%.1f us/message", sep, ($1 == gw ? "loop" : $2 "/" $1), d, d * 1000 / m
      if (w > 0) printf ", %.2f writes, %.1f KB a message", w, b / 1024
      if (r > 0) printf ", %.2f reads a message", r
      if ($7 != "") printf ", waited %d ms for a core, %.2f switches a message", $7 - q0[$1], ($8 - s0[$1]) / m
      printf ")"
      sep = ", " } END { print "" }' "$3" "$4" | sed 's/^/smsgate threads: /'
}

free_ports() { # n: prints n free loopback ports
  node -e 'const net = require("net"); const s = []; const n = +process.argv[1];
    (function next() {
      if (s.length === n) { console.log(s.map((x) => x.address().port).join(" "));
        s.forEach((x) => x.close()); return; }
      const x = net.createServer(); x.listen(0, "127.0.0.1", () => { s.push(x); next(); });
    })();' "$1"
}

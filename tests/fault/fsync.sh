#!/usr/bin/env bash
# The disk failing its flushes under a running gateway: smsgate ($1) runs
# with the LD_PRELOAD shim $SG_FSYNC_SHIM (tests/fault/shim/fsync_fault.c),
# which makes every fsync/fdatasync fail with EIO while a control file
# exists. Checks:
#   - before the fault, POSTs answer 202;
#   - during it, every POST is refused (503, nothing acknowledged whose
#     commit was not flushed) and /healthz says the store is failing;
#   - after it clears, the gateway takes messages again without a restart;
#   - after a kill -9 and a restart without the shim, every acknowledged
#     message reaches the SMSC and none of the refused ones does (a commit
#     whose flush failed must not come back from the WAL as a PHANTOM).
# The run itself is tests/fault/lib/store_fault.bash, shared with disk_full.sh.
FAULT=fsync
FAULT_SHIM=${SG_FSYNC_SHIM:-$(dirname "$1")/fsync_fault.so}
FAULT_ENV=('SG_FAULT_FSYNC=$T/failing')
FAULT_WHILE="every flush fails"
. "$(dirname "$0")/lib/store_fault.bash"

#!/usr/bin/env bash
# A full disk under a running gateway: smsgate ($1) runs with the
# LD_PRELOAD shim $SG_ENOSPC_SHIM (tests/fault/shim/enospc_fault.c), which
# makes every write to a file of the store's directory fail with ENOSPC
# while a control file exists (SQLite reports SQLITE_FULL). Checks:
#   - before the fault, POSTs answer 202;
#   - during it, every POST is refused (503 store_failed, nothing
#     acknowledged that is not stored) and /healthz says the store fails;
#   - after it clears, the gateway takes messages again without a restart;
#   - after a kill -9 and a restart without the shim, every acknowledged
#     message reaches the SMSC once and none of the refused ones does.
# The run itself is tests/fault/lib/store_fault.bash, shared with fsync.sh.
FAULT=disk_full
FAULT_SHIM=${SG_ENOSPC_SHIM:-$(dirname "$1")/enospc_fault.so}
FAULT_ENV=('SG_FAULT_ENOSPC=$T/failing' 'SG_FAULT_ENOSPC_DIR=$T/gw')
FAULT_WHILE="the disk is full"
. "$(dirname "$0")/lib/store_fault.bash"

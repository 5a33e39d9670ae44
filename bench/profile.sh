#!/usr/bin/env bash
# Where custimport (and the sandbox) spend their CPU at latency 0: perf profiles of one
# `custimport nxlink` run against `custimport sandbox`, attributed to pipeline stages.
#
#   bash bench/profile.sh                 # 300,000 rows, concurrency 8
#   bash bench/profile.sh --rows 100000 --concurrency 32
#
# Needs `perf` (Debian: apt-get install linux-perf). Builds a release binary with line tables
# and frame pointers in target/bench-profile (PROF_TARGET overrides; the normal target/ is left
# alone), then records the client with DWARF call graphs and the sandbox process alongside.
# Output: bench/results/profile-<UTC>/ with client-stages.md (samples per pipeline stage, see
# bench/buckets.py), client-top.txt and sandbox-top.txt (hottest functions, self time).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=300000
CONC=8
SEED=42
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --concurrency) CONC=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "profile.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "profile.sh: perf is required (apt-get install linux-perf)" >&2; exit 2; }

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
OUT=$ROOT/bench/results/profile-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$OUT" "$ROOT/bench/data"
PROF_TARGET=${PROF_TARGET:-$ROOT/target/bench-profile}

log "building the profiling binary in $PROF_TARGET"
CARGO_TARGET_DIR=$PROF_TARGET CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
    RUSTFLAGS="-C force-frame-pointers=yes" cargo build --release --quiet
BIN=$PROF_TARGET/release/custimport

FILE=$ROOT/bench/data/rows-$ROWS-seed$SEED.csv
[[ -s $FILE ]] || python3 "$ROOT/bench/gen.py" --rows "$ROWS" --seed "$SEED" --out "$FILE"

SB_PID=""
PERF_SB=""
cleanup() {
    [[ -n $PERF_SB ]] && { kill -INT "$PERF_SB" 2>/dev/null || true; wait "$PERF_SB" 2>/dev/null || true; }
    [[ -n $SB_PID ]] && { kill -TERM "$SB_PID" 2>/dev/null || true; wait "$SB_PID" 2>/dev/null || true; }
    return 0
}
trap cleanup EXIT

"$BIN" sandbox --port 0 >"$OUT/sandbox.log" 2>&1 &
SB_PID=$!
for _ in $(seq 100); do grep -q 'listening on' "$OUT/sandbox.log" && break; sleep 0.1; done
URL=$(awk '/listening on/ {print $NF}' "$OUT/sandbox.log")

export CUSTIMPORT_NXLINK_ACCESS_KEY=sandbox CUSTIMPORT_NXLINK_ACCESS_SECRET=sandbox-secret \
    CUSTIMPORT_NXLINK_TENANT_ID=1 CUSTIMPORT_NXLINK_APP_KEY=sandbox

perf record -q -F 999 -g -p "$SB_PID" -o "$OUT/sandbox.perf" 2>/dev/null &
PERF_SB=$!
sleep 0.5
log "recording custimport nxlink ($ROWS rows, concurrency $CONC)"
perf record -q -F 1999 --call-graph dwarf,32768 -o "$OUT/client.perf" \
    "$BIN" nxlink "$FILE" --base-url "$URL" --out "$OUT/run" --no-progress -q --json \
    --concurrency "$CONC" >"$OUT/summary.json" || [[ $? == 1 ]]
kill -INT "$PERF_SB"; wait "$PERF_SB" 2>/dev/null || true; PERF_SB=""
rm -rf "$OUT/run"

perf script -i "$OUT/client.perf" -F comm,tid,ip,sym 2>/dev/null | python3 "$ROOT/bench/buckets.py" >"$OUT/client-stages.md"
perf report -i "$OUT/client.perf" --no-children --sort sym -g none --percent-limit 0.8 2>/dev/null \
    | grep '%' >"$OUT/client-top.txt" || true
perf report -i "$OUT/sandbox.perf" --no-children --sort sym -g none --percent-limit 0.8 2>/dev/null \
    | grep '%' >"$OUT/sandbox-top.txt" || true
rm -f "$OUT/client.perf.old" "$OUT/sandbox.perf.old"

echo "== custimport: CPU samples by pipeline stage (innermost matching frame)"
cat "$OUT/client-stages.md"
echo
echo "== custimport: hottest functions (self)"
head -25 "$OUT/client-top.txt"
echo
echo "== sandbox: hottest functions (self)"
head -25 "$OUT/sandbox-top.txt"
log "profiles in $OUT (perf report -i $OUT/client.perf)"

#!/usr/bin/env bash
# Goodput of the defaults (`--concurrency auto --rate auto`) against limits the provider hides,
# beside the best fixed setting for each limit, in the same run. See BENCHMARKS.md, "Fast
# without tuning".
#
#   bash bench/adaptive.sh              # 20,000 rows per run: ~5 minutes (plus the release build)
#   bash bench/adaptive.sh --rows 2000  # a smoke run
#   bash bench/adaptive.sh --only conc2 # one scenario (names below)
#
# Options:
#   --rows N      rows of every scenario's runs (default 20000, batches of 100)
#   --rows-32 N   rows of the fixed `--concurrency 32` run at 50 ms (default 100000)
#   --only NAME   run only this scenario: rps10 rps10ra rps3 conc2 queue16 lat200 fixed32
#   --bin PATH    benchmark this custimport binary instead of building target/release
#
# Each scenario starts `custimport sandbox` with one hidden limit (--limit-rps, --limit-conc,
# --retry-after, --queue-latency, --latency-ms), then runs `custimport nxlink` twice on the same
# all-valid input, the sandbox reset before each: with the defaults, and with the best fixed
# setting for that limit. Per run: wall time, requests and throttled requests (the sandbox's
# /_sandbox/stats), rows succeeded (summary.json) and the exit code. The last line is a fixed
# `--concurrency 32` at 50 ms latency against its ceiling, rows / 100 × 0.05 s / 32.
# Results: bench/results/adaptive-<UTC>/adaptive.tsv and adaptive.md (printed at the end).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
ROWS=20000
ROWS32=100000
ONLY=""
BIN=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        --rows-32) ROWS32=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --bin) BIN=$(realpath "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
        *) echo "adaptive.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
for tool in python3 curl; do
    command -v "$tool" >/dev/null || { echo "adaptive.sh: $tool is required" >&2; exit 2; }
done
log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

RES=$ROOT/bench/results/adaptive-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$RES"
if [[ -z $BIN ]]; then
    log "cargo build --release"
    cargo build --release --quiet
    BIN=$ROOT/target/release/custimport
fi
# A private copy: a concurrent build cannot swap the binary in the middle of the run.
cp "$BIN" "$RES/custimport"
BIN=$RES/custimport

# All-valid rows: a name and a unique phone each.
rows_file() { # N -> path
    local f=$RES/rows-$1.csv
    python3 -c "
import sys
n = int(sys.argv[1])
with open(sys.argv[2], 'w') as f:
    f.write('name,phone\n')
    for i in range(1, n + 1):
        f.write(f'Customer {i},+6281{i:08d}\n')
" "$1" "$f"
    echo "$f"
}
INPUT=$(rows_file "$ROWS")

export CUSTIMPORT_NXLINK_ACCESS_KEY=sandbox CUSTIMPORT_NXLINK_ACCESS_SECRET=sandbox-secret \
    CUSTIMPORT_NXLINK_TENANT_ID=1 CUSTIMPORT_NXLINK_APP_KEY=sandbox

SB_PID=""
SB_URL=""
stop_sandbox() {
    if [[ -n $SB_PID ]]; then
        kill -TERM "$SB_PID" 2>/dev/null || true
        wait "$SB_PID" 2>/dev/null || true
        SB_PID=""
    fi
}
trap stop_sandbox EXIT
trap 'exit 130' INT TERM

start_sandbox() { # NAME SANDBOX-ARGS...
    stop_sandbox
    local logf=$RES/sandbox-$1.log
    shift
    "$BIN" sandbox --port 0 "$@" >"$logf" 2>&1 &
    SB_PID=$!
    for _ in $(seq 100); do
        if grep -qs 'listening on' "$logf"; then
            SB_URL=$(awk '/listening on/ {print $NF}' "$logf")
            return 0
        fi
        sleep 0.1
    done
    echo "adaptive.sh: the sandbox did not start:" >&2
    cat "$logf" >&2
    exit 1
}

# run NAME ARGS... -> "wall requests throttled succeeded exit" (sandbox reset first)
run() {
    local out=$RES/$1 rc=0 t0 t1
    shift
    rm -rf "$out"
    curl -sf -X POST "$SB_URL/_sandbox/reset" >/dev/null
    t0=$(date +%s.%N)
    "$BIN" nxlink "$INPUT" --base-url "$SB_URL" --out "$out" --no-progress -q --json "$@" \
        >"$out.stdout" 2>"$out.stderr" || rc=$?
    t1=$(date +%s.%N)
    local stats ok
    stats=$(curl -sf "$SB_URL/_sandbox/stats" | python3 -c \
        "import json,sys; s=json.load(sys.stdin); print(s['requests'], s['throttled'])")
    ok=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['succeeded'])" \
        "$out/summary.json" 2>/dev/null || echo 0)
    echo "$(python3 -c "print(round($t1 - $t0, 3))") $stats $ok $rc"
}

TSV=$RES/adaptive.tsv
printf 'scenario\tlimit\tdefaults_s\tdefaults_requests\tdefaults_throttled\tdefaults_succeeded\tdefaults_exit\tfixed\tfixed_s\tfixed_requests\tfixed_throttled\tfixed_succeeded\tfixed_exit\n' >"$TSV"

# scenario NAME "LIMIT TEXT" "FIXED ARGS" SANDBOX-ARGS...
scenario() {
    local name=$1 text=$2 fixed=$3
    shift 3
    [[ -z $ONLY || $ONLY == "$name" ]] || return 0
    start_sandbox "$name" "$@"
    log "$name ($text): defaults"
    local d f
    d=$(run "$name-defaults")
    log "$name: defaults $d; fixed $fixed"
    # shellcheck disable=SC2086
    f=$(run "$name-fixed" $fixed)
    log "$name: fixed $f"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$text" "${d// /$'\t'}" "$fixed" "${f// /$'\t'}" >>"$TSV"
}

scenario rps10 "10 requests/s, no Retry-After" "--rate 10" --limit-rps 10
scenario rps10ra "10 requests/s, Retry-After: 1" "--rate 10" --limit-rps 10 --retry-after 1
scenario rps3 "3 requests/s" "--rate 3" --limit-rps 3
scenario conc2 "2 in flight (200 ms), 429 beyond" "--concurrency 2" --limit-conc 2 --latency-ms 200
scenario queue16 "latency grows past 16 in flight (100 ms)" "--concurrency 16" --queue-latency 16 --latency-ms 100
scenario lat200 "none, 200 ms latency" "--concurrency 32" --latency-ms 200

CEILING=""
if [[ -z $ONLY || $ONLY == fixed32 ]]; then
    start_sandbox fixed32 --latency-ms 50
    log "fixed32: --concurrency 32 at 50 ms, $ROWS32 rows"
    INPUT=$(rows_file "$ROWS32")
    CEILING=$(run fixed32 --concurrency 32)
    log "fixed32: $CEILING"
fi
stop_sandbox

python3 - "$TSV" "$ROWS" "$ROWS32" "$CEILING" >"$RES/adaptive.md" <<'EOF'
import csv, sys
tsv, rows, rows32, ceiling = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print(f"{rows:,} rows per run, batches of 100.\n")
print("| hidden limit | defaults | best fixed setting | defaults reach | throttled requests (defaults / fixed) | rows succeeded (defaults / fixed) |")
print("|---|---|---|---|---|---|")
for r in csv.DictReader(open(tsv), delimiter="\t"):
    d, f = float(r["defaults_s"]), float(r["fixed_s"])
    pct = lambda t, n: f"{100 * int(t) / max(1, int(n)):.1f} % ({t}/{n})"
    flag = "" if r["defaults_exit"] == "0" and r["fixed_exit"] == "0" else f" (exit {r['defaults_exit']}/{r['fixed_exit']})"
    print(f"| {r['limit']} | {d:.1f} s | `{r['fixed']}` {f:.1f} s | {100 * f / d:.1f} % "
          f"| {pct(r['defaults_throttled'], r['defaults_requests'])} / {pct(r['fixed_throttled'], r['fixed_requests'])} "
          f"| {r['defaults_succeeded']} / {r['fixed_succeeded']}{flag} |")
if ceiling:
    wall, requests, throttled, ok, rc = ceiling.split()
    ideal = rows32 / 100 * 0.05 / 32
    print(f"\nFixed `--concurrency 32` at 50 ms latency, {rows32:,} rows: {float(wall):.3f} s against a ceiling of "
          f"{ideal:.2f} s (rows / 100 × 50 ms / 32): {100 * ideal / float(wall):.1f} % "
          f"({ok} rows succeeded, exit {rc}).")
EOF
cat "$RES/adaptive.md"
log "results in $RES"

#!/usr/bin/env bash
# End-to-end performance benchmark of `custimport nxlink` against `custimport sandbox`, beside a
# Python aiohttp peer (bench/peer.py) doing the same work. See BENCHMARKS.md.
#
#   bash bench/run.sh                # full run: ~3 minutes on 2 cores (plus the release build)
#   bash bench/run.sh --quick        # smoke run: ~30 s; its figures are dominated by start-up
#   bash bench/run.sh --rows 50000   # every run with 50,000 rows
#   bash bench/run.sh incremental    # only the --skip-unchanged stage: ~1 minute (see below)
#   bash bench/run.sh journal        # only the journal-size stage: ~1 minute (see below)
#
# Options:
#   --rows N        rows of every run (default: 300000 at latency 0, 100000 at 50 ms)
#   --rows-50 N     rows of the 50 ms runs only
#   --quick         20,000 rows at latency 0, 10,000 at 50 ms, memory runs 20,000 / 200,000
#   --no-peer       custimport only (no virtualenv, no outcome check)
#   --no-memory     skip the memory runs (concurrency 8, 100,000 and 1,000,000 rows)
#   --seed N        generator seed (default 42)
#   --keep          keep the per-run report directories
#   --bin PATH      benchmark this custimport binary instead of building target/release
#   --inc-rows N    rows of the incremental stage (default 1000000)
#   --journal-rows N  rows of the journal stage (default 1000000)
#
# Stage `incremental` (alone: `bash bench/run.sh incremental`): latency 0, concurrency 4, on one
# input of --inc-rows rows. A --dry-run of it and a --skip-unchanged run of it with a state that
# remembers every row, alternated 3 times (medians compared: the target is at most 2x the dry
# run's wall time and at most 64 MB peak RSS); before them, the run that fills the state; after
# them, a run over the same file with 1 % of the rows edited, which must send exactly those.
# Results: bench/results/<UTC>/incremental.tsv and incremental.md.
#
# Stage `journal` (alone: `bash bench/run.sh journal`): one clean nxlink import (latency 0,
# concurrency 4) of --journal-rows rows, for each of two inputs: `short` (name and phone, about
# 28 bytes a row, where the journal weighs most against the input) and the generator's rows
# (about 89 bytes a row, no invalid row). Per run: input, journal.jsonl and success.csv bytes,
# and the client's wall time, user+sys CPU and peak RSS (GNU time); the target is a journal of
# at most 10 % of the input. Results: bench/results/<UTC>/journal.tsv and journal.md.
#
# Matrix: latency {0, 50 ms} × concurrency {1, 8, 32} × {custimport, peer}; each pair is checked
# for identical per-row outcomes. Per run: wall time, user+sys CPU and peak RSS of the client
# (GNU time), CPU of the sandbox process (/proc/PID/stat before/after), rows the sandbox received
# and its highest number of requests in flight (/_sandbox/stats). Results: bench/results/<UTC>/
# (results.tsv, table.md) and bench/results/latest -> that directory.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

ROWS0=300000
ROWS50=100000
MEM_ROWS="100000 1000000"
SEED=42
PEER=1
MEMORY=1
KEEP=0
BIN=""
CONCURRENCIES="1 8 32"
LATENCIES="0 50"
STAGE=all
INC_ROWS=1000000
JOURNAL_ROWS=1000000

while [[ $# -gt 0 ]]; do
    case $1 in
        incremental) STAGE=incremental; PEER=0; shift ;;
        --inc-rows) INC_ROWS=$2; shift 2 ;;
        journal) STAGE=journal; PEER=0; shift ;;
        --journal-rows) JOURNAL_ROWS=$2; shift 2 ;;
        --rows) ROWS0=$2; ROWS50=$2; shift 2 ;;
        --rows-50) ROWS50=$2; shift 2 ;;
        --quick) ROWS0=20000; ROWS50=10000; MEM_ROWS="20000 200000"; shift ;;
        --no-peer) PEER=0; shift ;;
        --no-memory) MEMORY=0; shift ;;
        --seed) SEED=$2; shift 2 ;;
        --keep) KEEP=1; shift ;;
        --bin) BIN=$(realpath "$2"); shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | grep '^#' | cut -c3-; exit 0 ;;
        *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

for tool in python3 curl /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is required" >&2; exit 2; }
done

log() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

STARTED=$(date +%s)
STAMP=$(date -u +%Y%m%d-%H%M%S)
RES=$ROOT/bench/results/$STAMP
DATA=$ROOT/bench/data
mkdir -p "$RES" "$DATA"
ln -sfn "$STAMP" "$ROOT/bench/results/latest"
TSV=$RES/results.tsv
printf 'phase\ttool\tlatency_ms\tconcurrency\trows\twall_s\tuser_s\tsys_s\tmaxrss_kb\tsandbox_cpu_s\tother_cpu_s\trows_sent\trequests\tmax_in_flight\texit\toutcomes\n' >"$TSV"

# --- build ---------------------------------------------------------------------------------
if [[ -z $BIN ]]; then
    log "cargo build --release"
    cargo build --release --quiet
    BIN=$ROOT/target/release/custimport
    VERSION="commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml 2>/dev/null || echo ' + uncommitted changes')"
else
    VERSION="binary $BIN ($("$BIN" --version))"
fi
# A private copy: a concurrent `cargo build` cannot swap the binary in the middle of the matrix.
cp "$BIN" "$RES/custimport"
BIN=$RES/custimport

# --- peer virtualenv -----------------------------------------------------------------------
VENV=$ROOT/bench/.venv
if [[ $PEER == 1 ]]; then
    if ! "$VENV/bin/python" -c 'import aiohttp' 2>/dev/null; then
        log "creating $VENV with aiohttp"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check aiohttp
    fi
fi

# --- input files ---------------------------------------------------------------------------
input() { # rows -> path (generated once per rows/seed)
    local f=$DATA/rows-$1-seed$SEED.csv
    if [[ ! -s $f ]]; then
        python3 "$ROOT/bench/gen.py" --rows "$1" --seed "$SEED" --out "$f.tmp" && mv "$f.tmp" "$f"
    fi
    echo "$f"
}

# --- sandbox -------------------------------------------------------------------------------
SB_PID=""
SB_URL=""
CLK_TCK=$(getconf CLK_TCK)

stop_sandbox() {
    if [[ -n $SB_PID ]]; then
        kill -TERM "$SB_PID" 2>/dev/null || true
        wait "$SB_PID" 2>/dev/null || true
        SB_PID=""
    fi
}
trap stop_sandbox EXIT
trap 'exit 130' INT TERM

start_sandbox() { # latency_ms
    stop_sandbox
    local logf=$RES/sandbox-$1ms.log
    "$BIN" sandbox --port 0 --latency-ms "$1" >"$logf" 2>&1 &
    SB_PID=$!
    for _ in $(seq 100); do
        if grep -q 'listening on' "$logf"; then
            SB_URL=$(awk '/listening on/ {print $NF}' "$logf")
            return 0
        fi
        sleep 0.1
    done
    echo "run.sh: the sandbox did not start:" >&2
    cat "$logf" >&2
    exit 1
}

sandbox_ticks() { # utime+stime of the sandbox process (all threads), in clock ticks
    local s
    s=$(<"/proc/$SB_PID/stat")
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo $((${12} + ${13}))
}

machine_ticks() { # busy (non-idle, non-iowait) ticks of the whole machine, all CPUs
    local _cpu user nice system idle iowait irq softirq steal rest
    read -r _cpu user nice system idle iowait irq softirq steal rest </proc/stat
    echo $((user + nice + system + irq + softirq + steal))
}

stat_field() { # json field -> value from /_sandbox/stats
    curl -sf "$SB_URL/_sandbox/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

export CUSTIMPORT_NXLINK_ACCESS_KEY=sandbox CUSTIMPORT_NXLINK_ACCESS_SECRET=sandbox-secret \
    CUSTIMPORT_NXLINK_TENANT_ID=1 CUSTIMPORT_NXLINK_APP_KEY=sandbox

# measure TOOL LATENCY CONC ROWS FILE OUTDIR -> one TSV line without phase and outcomes
measure() {
    local tool=$1 lat=$2 conc=$3 rows=$4 file=$5 out=$6 timef=$RES/time.txt rc=0
    rm -rf "$out"
    curl -sf -X POST "$SB_URL/_sandbox/reset" >/dev/null
    local t0 t1 m0 m1
    t0=$(sandbox_ticks)
    m0=$(machine_ticks)
    case $tool in
        custimport)
            /usr/bin/time -f '%e %U %S %M' -o "$timef" \
                "$BIN" nxlink "$file" --base-url "$SB_URL" --out "$out" --no-progress -q --json \
                --concurrency "$conc" >"$out.stdout" 2>"$out.stderr" || rc=$?
            ;;
        peer)
            /usr/bin/time -f '%e %U %S %M' -o "$timef" \
                "$VENV/bin/python" "$ROOT/bench/peer.py" "$file" --base-url "$SB_URL" \
                --out "$out" --concurrency "$conc" >"$out.stdout" 2>"$out.stderr" || rc=$?
            ;;
    esac
    t1=$(sandbox_ticks)
    m1=$(machine_ticks)
    # Exit 1 = some rows rejected (the generated ~2 %): expected.
    if [[ $rc -gt 1 ]]; then
        echo "run.sh: $tool exited $rc" >&2
        cat "$out.stderr" >&2
        exit 1
    fi
    local wall user sys rss
    read -r wall user sys rss < <(tail -n 1 "$timef")
    local sb_cpu other sent requests inflight
    sb_cpu=$(python3 -c "print(($t1 - $t0) / $CLK_TCK)")
    # CPU used by anything else on the machine during the run (noise: another build, tests).
    other=$(python3 -c "print(max(0.0, round(($m1 - $m0 - $t1 + $t0) / $CLK_TCK - $user - $sys, 2)))")
    sent=$(stat_field rows_received)
    requests=$(stat_field requests)
    inflight=$(stat_field max_in_flight)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$tool" "$lat" "$conc" "$rows" \
        "$wall" "$user" "$sys" "$rss" "$sb_cpu" "$other" "$sent" "$requests" "$inflight" "$rc"
    log "$tool latency=${lat}ms c=$conc rows=$rows: wall ${wall}s cpu ${user}+${sys}s rss ${rss}KB sandbox ${sb_cpu}s other ${other}s in-flight<=$inflight"
}

# measure_clean ARGS...: `measure`, repeated (at most 3 times) while something else on the machine
# used more than a quarter as much CPU as the client and the sandbox together during the run.
# Only latency-0 runs (short, CPU-bound, the ones contention distorts) are repeated, and only
# within the first 6 minutes, so that the whole harness stays under 10 minutes.
measure_clean() {
    local line attempt
    for attempt in 1 2 3; do
        line=$(measure "$@")
        [[ $2 == 0 && $(($(date +%s) - STARTED)) -lt 360 ]] || break
        if python3 -c "import sys; f = sys.argv[1].split('\t'); sys.exit(float(f[9]) > 0.25 * (float(f[5]) + float(f[6]) + float(f[8])))" "$line"; then
            break
        fi
        [[ $attempt == 3 ]] || log "other processes used the CPU during that run: measuring again"
    done
    echo "$line"
}

# --- incremental: --skip-unchanged against a dry run --------------------------------------
# measure_inc NAME FILE OUT ARGS... -> one TSV line of incremental.tsv (sandbox reset first)
measure_inc() {
    local name=$1 file=$2 out=$3 timef=$RES/time.txt rc=0
    shift 3
    rm -rf "$out"
    curl -sf -X POST "$SB_URL/_sandbox/reset" >/dev/null
    /usr/bin/time -f '%e %U %S %M' -o "$timef" \
        "$BIN" nxlink "$file" --base-url "$SB_URL" --out "$out" --no-progress -q --json \
        --concurrency 4 "$@" >"$out.stdout" 2>"$out.stderr" || rc=$?
    if [[ $rc -gt 1 ]]; then
        echo "run.sh: $name exited $rc" >&2
        cat "$out.stderr" >&2
        exit 1
    fi
    local wall user sys rss sent
    read -r wall user sys rss < <(tail -n 1 "$timef")
    sent=$(stat_field rows_received)
    local fields
    fields=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['succeeded'], s.get('unchanged', 0), s['rejected'], s.get('valid') or 0)" "$out/summary.json")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$wall" "$user" "$sys" "$rss" "$sent" "$rc" "${fields// /$'\t'}" >>"$RES/incremental.tsv"
    log "$name: wall ${wall}s cpu ${user}+${sys}s rss ${rss}KB, sandbox received $sent rows"
}

incremental_stage() {
    local rows=$INC_ROWS file edited state dir i
    file=$(input "$rows")
    edited=$DATA/rows-$rows-seed$SEED-edited1pct.csv
    if [[ ! -s $edited ]]; then
        # Every 100th data row gets a different note (a mapped column: remark).
        python3 - "$file" "$edited.tmp" <<'PY'
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as f, open(sys.argv[2], "w", newline="", encoding="utf-8") as g:
    r, w = csv.reader(f), csv.writer(g)
    w.writerow(next(r))
    for i, rec in enumerate(r, 1):
        if i % 100 == 0:
            rec[-1] = (rec[-1] + " (edited)").strip()
        w.writerow(rec)
PY
        mv "$edited.tmp" "$edited"
    fi
    state=$RES/state.db
    dir=$RES/inc
    mkdir -p "$dir"
    printf 'run\twall_s\tuser_s\tsys_s\tmaxrss_kb\trows_sent\texit\tsucceeded\tunchanged\trejected\tvalid\n' >"$RES/incremental.tsv"
    start_sandbox 0
    log "incremental stage: $rows rows, state $state"
    measure_inc fill "$file" "$dir/fill" --skip-unchanged --state "$state"
    for i in 1 2 3; do
        measure_inc dry-run "$file" "$dir/dry-$i" --dry-run
        measure_inc unchanged "$file" "$dir/unchanged-$i" --skip-unchanged --state "$state"
    done
    measure_inc dry-run-incremental "$file" "$dir/dry-inc" --dry-run --skip-unchanged --state "$state"
    measure_inc edited-1pct "$edited" "$dir/edited" --skip-unchanged --state "$state"
    stop_sandbox
    # Which rows of the edited file were valid (they succeeded in the fill run) and edited.
    local remembered
    remembered=$("$BIN" state --state "$state" --json | python3 -c "import json,sys; print(sum(s['rows'] for s in json.load(sys.stdin)['scopes']))")
    python3 - "$RES/incremental.tsv" "$dir/fill/success.csv" "$dir/edited/success.csv" "$remembered" "$(du -k "$state" | cut -f1)" <<'PY' | tee "$RES/incremental.md"
import csv, statistics, sys
tsv, fill_ok, edited_ok, remembered, state_kb = sys.argv[1:6]
runs = list(csv.DictReader(open(tsv), delimiter="\t"))
def med(name, key):
    return statistics.median(float(r[key]) for r in runs if r["run"] == name)
valid = {int(r["row"]) for r in csv.DictReader(open(fill_ok))}
expected = sorted(i for i in valid if i % 100 == 0)
sent_ok = sorted(int(r["row"]) for r in csv.DictReader(open(edited_ok)))
print(f"| run | wall s | CPU s (user+sys) | peak RSS MB | rows sent | succeeded | unchanged | rejected |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for r in runs:
    cpu = float(r["user_s"]) + float(r["sys_s"])
    print(f"| {r['run']} | {float(r['wall_s']):.2f} | {cpu:.2f} ({r['user_s']}+{r['sys_s']}) | {int(r['maxrss_kb'])/1024:.1f} | {int(r['rows_sent']):,} | {int(r['succeeded']):,} | {int(r['unchanged']):,} | {int(r['rejected']):,} |")
ratio = med("unchanged", "wall_s") / med("dry-run", "wall_s")
rss = max(float(r["maxrss_kb"]) for r in runs if r["run"] == "unchanged") / 1024
edited = [r for r in runs if r["run"] == "edited-1pct"][0]
sent = int(edited["rows_sent"])
print()
print(f"State: {int(remembered):,} rows remembered, {int(state_kb)/1024:.0f} MB on disk.")
print()
print("| target | status | measured |")
print("|---|---|---|")
print(f"| all unchanged: wall <= 2x the dry run's (medians of 3) | {'**met**' if ratio <= 2 else '**not met**'} | {med('unchanged', 'wall_s'):.2f} s / {med('dry-run', 'wall_s'):.2f} s = {ratio:.2f}x |")
print(f"| all unchanged: peak RSS < 64 MB | {'**met**' if rss < 64 else '**not met**'} | {rss:.1f} MB (highest of 3) |")
ok = sent == len(expected) and sent_ok == expected
print(f"| 1 % edited: sends exactly those rows | {'**met**' if ok else '**not met**'} | {sent:,} rows sent, {len(expected):,} valid rows edited, same rows: {sent_ok == expected} |")
sys.exit(0 if ratio <= 2 and rss < 64 and ok else 1)
PY
    local verdict=${PIPESTATUS[0]}
    if [[ $KEEP == 0 ]]; then rm -rf "$dir" "$state" "$state-wal" "$state-shm"; fi
    return "$verdict"
}

# --- journal: its size against the input's, on a clean import ------------------------------
journal_stage() {
    local rows=$JOURNAL_ROWS short gen dir name file out rc timef=$RES/time.txt
    short=$DATA/short-$rows.csv
    if [[ ! -s $short ]]; then
        python3 - "$rows" "$short.tmp" <<'PY'
import sys
with open(sys.argv[2], "w") as f:
    f.write("name,phone\n")
    for i in range(1, int(sys.argv[1]) + 1):
        f.write(f"Customer {i},6281{i:07}\n")
PY
        mv "$short.tmp" "$short"
    fi
    gen=$DATA/clean-$rows-seed$SEED.csv
    if [[ ! -s $gen ]]; then
        python3 "$ROOT/bench/gen.py" --rows "$rows" --seed "$SEED" --invalid-rate 0 --out "$gen.tmp" && mv "$gen.tmp" "$gen"
    fi
    dir=$RES/journal
    mkdir -p "$dir"
    printf 'input\trows\tinput_bytes\tjournal_bytes\tsuccess_bytes\twall_s\tuser_s\tsys_s\tmaxrss_kb\texit\n' >"$RES/journal.tsv"
    start_sandbox 0
    for name in short generated; do
        if [[ $name == short ]]; then file=$short; else file=$gen; fi
        out=$dir/$name
        rm -rf "$out"
        curl -sf -X POST "$SB_URL/_sandbox/reset" >/dev/null
        rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$timef" \
            "$BIN" nxlink "$file" --base-url "$SB_URL" --out "$out" --no-progress -q --json \
            --concurrency 4 >"$out.stdout" 2>"$out.stderr" || rc=$?
        local wall user sys rss
        read -r wall user sys rss < <(tail -n 1 "$timef")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rows" "$(stat -c %s "$file")" \
            "$(stat -c %s "$out/journal.jsonl")" "$(stat -c %s "$out/success.csv")" \
            "$wall" "$user" "$sys" "$rss" "$rc" >>"$RES/journal.tsv"
        log "journal $name: exit $rc, wall ${wall}s cpu ${user}+${sys}s rss ${rss}KB"
    done
    stop_sandbox
    python3 - "$RES/journal.tsv" <<'PY' | tee "$RES/journal.md"
import csv, sys
runs = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
mb = lambda b: f"{int(b) / 1e6:.1f} MB"
print("| input | rows | input | journal.jsonl | journal / input | success.csv | wall s | CPU s (user+sys) | peak RSS MB | exit |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ok = True
for r in runs:
    ratio = int(r["journal_bytes"]) / int(r["input_bytes"])
    ok &= ratio <= 0.10 and r["exit"] == "0"
    cpu = float(r["user_s"]) + float(r["sys_s"])
    print(f"| {r['input']} | {int(r['rows']):,} | {mb(r['input_bytes'])} | {int(r['journal_bytes']):,} B | {100 * ratio:.2f} % | {mb(r['success_bytes'])} | {float(r['wall_s']):.2f} | {cpu:.2f} ({r['user_s']}+{r['sys_s']}) | {int(r['maxrss_kb']) / 1024:.1f} | {r['exit']} |")
print()
print(f"Target (journal <= 10 % of the input, exit 0): {'**met**' if ok else '**not met**'}")
sys.exit(0 if ok else 1)
PY
    local verdict=${PIPESTATUS[0]}
    if [[ $KEEP == 0 ]]; then rm -rf "$dir"; fi
    return "$verdict"
}

if [[ $STAGE == journal ]]; then
    rc=0
    journal_stage || rc=$?
    log "done in $(( $(date +%s) - STARTED )) s; results in $RES"
    rm -f "$RES/custimport" "$RES/time.txt"
    exit $rc
fi

if [[ $STAGE == incremental ]]; then
    rc=0
    incremental_stage || rc=$?
    log "done in $(( $(date +%s) - STARTED )) s; results in $RES"
    rm -f "$RES/custimport" "$RES/time.txt"
    exit $rc
fi

# --- matrix --------------------------------------------------------------------------------
MISMATCH=0
for lat in $LATENCIES; do
    if [[ $lat == 0 ]]; then rows=$ROWS0; else rows=$ROWS50; fi
    file=$(input "$rows")
    start_sandbox "$lat"
    log "sandbox latency ${lat} ms at $SB_URL, input $file"
    for conc in $CONCURRENCIES; do
        cdir=$RES/run-custimport-${lat}ms-c$conc
        pdir=$RES/run-peer-${lat}ms-c$conc
        cline=$(measure_clean custimport "$lat" "$conc" "$rows" "$file" "$cdir")
        if [[ $PEER == 1 ]]; then
            pline=$(measure_clean peer "$lat" "$conc" "$rows" "$file" "$pdir")
            if python3 "$ROOT/bench/compare.py" "$cdir" "$pdir" "$rows" >"$RES/compare-${lat}ms-c$conc.txt"; then
                same=same
            else
                same=DIFFERENT
                MISMATCH=1
            fi
            log "outcomes: $(cat "$RES/compare-${lat}ms-c$conc.txt")"
            printf 'matrix\t%s\t%s\n' "$cline" "$same" >>"$TSV"
            printf 'matrix\t%s\t%s\n' "$pline" "$same" >>"$TSV"
        else
            printf 'matrix\t%s\t-\n' "$cline" >>"$TSV"
        fi
        if [[ $KEEP == 0 ]]; then rm -rf "$cdir" "$pdir"; fi
    done
done

# --- memory: concurrency 8, latency 0, small and large input -------------------------------
if [[ $MEMORY == 1 ]]; then
    start_sandbox 0
    for rows in $MEM_ROWS; do
        file=$(input "$rows")
        dir=$RES/run-memory-$rows
        line=$(measure_clean custimport 0 8 "$rows" "$file" "$dir")
        printf 'memory\t%s\t-\n' "$line" >>"$TSV"
        if [[ $KEEP == 0 ]]; then rm -rf "$dir"; fi
    done
fi
stop_sandbox

# --- report --------------------------------------------------------------------------------
{
    echo "custimport benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $VERSION"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
    echo
    python3 "$ROOT/bench/table.py" "$TSV"
} >"$RES/table.md"
cat "$RES/table.md"
log "done in $(( $(date +%s) - STARTED )) s; results in $RES"
rm -f "$RES/custimport" "$RES/time.txt"
exit $MISMATCH

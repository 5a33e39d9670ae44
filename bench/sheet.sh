#!/usr/bin/env bash
# Peak memory and time of reading a large workbook (see BENCHMARKS.md, "Spreadsheets").
#
#   bash bench/sheet.sh              # 200,000 rows: about 10 s after the release build
#   bash bench/sheet.sh --rows 50000
#
# Builds the release binary and the generator (examples/sheet_workbook.rs), writes
# bench/data/sheet-<rows>.xlsx and the same rows as bench/data/sheet-<rows>.csv (both cached),
# then measures with GNU time (wall, user+sys CPU, max RSS):
#   1. `--dry-run` of the .xlsx: reading, mapping and validating every row, nothing sent;
#   2. `--dry-run` of the same rows as .csv, for comparison;
#   3. a real import of the .xlsx into `custimport sandbox` (a separate process, so its memory
#      is not counted).
set -euo pipefail

cd "$(dirname "$0")/.."
ROWS=200000
while [[ $# -gt 0 ]]; do
    case $1 in
        --rows) ROWS=$2; shift 2 ;;
        *) echo "bench/sheet.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

cargo build --release --locked --bin custimport --example sheet_workbook >&2
BIN=target/release/custimport
mkdir -p bench/data
XLSX=bench/data/sheet-$ROWS.xlsx
CSV=bench/data/sheet-$ROWS.csv
[[ -f $XLSX ]] || target/release/examples/sheet_workbook "$XLSX" "$ROWS"
TMP=$(mktemp -d)
SB_PID=""
cleanup() {
    [[ -n $SB_PID ]] && kill -TERM "$SB_PID" 2>/dev/null && wait "$SB_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

measure() { # label, command...
    local label=$1; shift
    /usr/bin/time -f '%e %U %S %M' -o "$TMP/time" "$@" >/dev/null 2>"$TMP/err" || true
    read -r wall user sys rss <"$TMP/time"
    printf '| %s | %s | %s | %.2f | %.1f |\n' "$label" "$wall" "$user+$sys" \
        "$(echo "($user+$sys)*1000000/$ROWS" | bc -l)" "$(echo "$rss/1024" | bc -l)"
    tail -1 "$TMP/err" >&2
}

# The same rows as CSV (what the generator writes, with ISO birthdays), for comparison.
if [[ ! -f $CSV ]]; then
    python3 - "$ROWS" "$CSV" <<'PY'
import sys
rows, out = int(sys.argv[1]), sys.argv[2]
with open(out, "w", encoding="utf-8") as f:
    f.write("Full Name,WhatsApp,Birthday,Email,Notes\n")
    for i in range(1, rows + 1):
        name = f"张伟{i}" if i % 10 == 0 else f"Customer {i}"
        y, m, d = 1960 + i % 40, 1 + i % 12, 1 + i % 28
        f.write(f"{name},{6281200000000 + i},{y}-{m:02}-{d:02},c{i}@example.com,"
                f"\"imported from the spring list, row {i}\"\n")
PY
fi

echo "| run | wall s | CPU s (user+sys) | CPU-µs/row | peak RSS MB |"
echo "|---|---:|---:|---:|---:|"
measure "xlsx, --dry-run" "$BIN" nxlink --dry-run --no-progress --out "$TMP/a" "$XLSX"
measure "csv, --dry-run" "$BIN" nxlink --dry-run --no-progress --out "$TMP/b" "$CSV"

"$BIN" sandbox --port 0 >"$TMP/sandbox.log" 2>&1 &
SB_PID=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$TMP/sandbox.log" && break
    sleep 0.1
done
URL=$(awk '/listening on/ {print $NF}' "$TMP/sandbox.log")
export CUSTIMPORT_NXLINK_ACCESS_KEY=sandbox CUSTIMPORT_NXLINK_ACCESS_SECRET=sandbox-secret \
    CUSTIMPORT_NXLINK_TENANT_ID=1 CUSTIMPORT_NXLINK_APP_KEY=sandbox
measure "xlsx, import (concurrency 8)" "$BIN" nxlink --base-url "$URL" --concurrency 8 \
    --no-progress --out "$TMP/c" "$XLSX"
ls -l "$XLSX" "$CSV" | awk '{printf "%s: %.1f MB\n", $NF, $5/1048576}' >&2

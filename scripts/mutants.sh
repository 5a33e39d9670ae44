#!/usr/bin/env bash
# Mutation testing of the answer accounting and the retry classification (mutants.toml lists the
# files): every mutant cargo-mutants makes of them must make a unit test fail. Prints the score,
# caught / viable. Not part of .ci/run: a full run takes about an hour on 2 cores.
#
#   scripts/mutants.sh                    # a full run, one build at a time
#   MUTANTS_JOBS=2 scripts/mutants.sh     # two builds at a time (needs the cores and memory)
#   scripts/mutants.sh --in-place         # mutate this tree and reuse its target/ (fastest;
#                                         # do not edit or commit while it runs)
#
# Extra arguments go to cargo-mutants. Results are in target/mutants/mutants.out/
# (caught.txt, missed.txt, timeout.txt, unviable.txt, outcomes.json).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null 2>&1; then
  cargo install --locked cargo-mutants
fi

out=target/mutants
status=0
# Unit tests only: mutants.toml gives `--lib` to every cargo invocation (`-- --lib` would reach
# `cargo test` but not the build, which would then build the integration tests for each mutant).
jobs=(--jobs "${MUTANTS_JOBS:-1}")
case " $* " in *" --in-place "*) jobs=() ;; esac  # one build at a time in place
cargo mutants --config mutants.toml "${jobs[@]}" --output "$out" "$@" || status=$?

# cargo-mutants exits 0 when every mutant is caught, 2 when some were missed, 3 on timeouts;
# anything else (1 usage, 4 the unmutated tree failing its tests) is a failed run.
case "$status" in
  0 | 2 | 3) ;;
  *) echo "cargo-mutants failed (exit $status)" >&2; exit "$status" ;;
esac

dir="$out/mutants.out"
count() { if [ -s "$dir/$1.txt" ]; then grep -c . "$dir/$1.txt"; else echo 0; fi; }
caught=$(count caught)
missed=$(count missed)
timeout=$(count timeout)
unviable=$(count unviable)
viable=$((caught + missed + timeout))
if [ "$viable" -gt 0 ]; then
  score=$(awk -v c="$caught" -v v="$viable" 'BEGIN { printf "%.1f", 100 * c / v }')
else
  score="n/a"
fi
echo "mutants: $caught caught / $viable viable = $score % ($missed missed, $timeout timeouts, $unviable unviable)"
if [ "$missed" -gt 0 ]; then
  echo "missed:"
  sed 's/^/  /' "$dir/missed.txt"
fi
exit "$status"

#!/usr/bin/env bash
# Big-output benchmark: peak RSS and wall time when jobs print a lot, pexec beside GNU parallel
# (which buffers on disk too) and xargs -P (which passes the output through, torn), in one run.
#   bash bench/big-output.sh [path/to/pexec]        (needs bench/install-bench-deps)
# Cases: one job printing 2.09 GB (seq 1 220000000); 64 jobs of 46.9 MB each at -j 16.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

once() {  # once LABEL CMD...: one run (these are long), reported as "LABEL SECONDS RSS_KB"
  local label=$1; shift
  time_once "$label" "$@"
  median "$label"
}

report() {
  echo "== $1"
  awk '{ printf "%-22s %9.2f s %10d KB\n", $1, $2, $3 }'
}

big="seq 1 220000000"
seq 64 > "$work/64"
part="seq 1 6000000"
{
  once pexec              sh -c "'$pexec' ::: '$big'"
  once pexec-process      sh -c "'$pexec' -m process ::: '$big'"
  once pexec-jsonl        sh -c "'$pexec' --format jsonl ::: '$big'"
  once gnu-parallel       sh -c "parallel ::: '$big'"
  once xargs              sh -c "echo x | xargs -P 1 -I{} sh -c '$big'"
} | report "one job printing 2.09 GB"
{
  once pexec              sh -c "'$pexec' -j 16 '$part #' < '$work/64'"
  once pexec-process      sh -c "'$pexec' -m process -j 16 '$part #' < '$work/64'"
  once pexec-jsonl        sh -c "'$pexec' --format jsonl -j 16 '$part #' < '$work/64'"
  once gnu-parallel       sh -c "parallel -j 16 '$part #' < '$work/64'"
  once xargs              sh -c "xargs -P 16 -I{} sh -c '$part' < '$work/64'"
} | report "64 jobs x 46.9 MB, -j 16"

#!/usr/bin/env bash
# Jobs as Slurm job steps: 50 trivial jobs in one allocation of 2 tasks, pexec --slurm against
# the usual recipe, GNU parallel -j 2 running srun --exact for each job, on a one-node cluster
# of the bench's own (tests/fixtures/slurm_cluster.sh; root only). Both run inside the same
# allocation, taken in turns; medians of ROUNDS runs (default 3).
#   bash bench/slurm.sh [path/to/pexec]        (needs GNU parallel: bench/install-bench-deps)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --inside ]; then  # in the allocation: the timed part
  pexec=$2 work=$3
  source "$here/timing.sh"
  seq 50 > "$work/items"
  # Each tool must run every job: a failed run is reported, never timed.
  run() {
    time_once "$1" "${@:2}"
    local count
    count=$(grep -cx '[0-9]*' "$work/out" || true)
    [ "$count" = 50 ] && [ "$(cat "$work/status")" = 0 ] ||
      { echo "FAILED: $1 ran $count of 50 jobs: $(head -c 300 "$work/err")" >&2; exit 1; }
  }
  for _ in $(seq "${ROUNDS:-3}"); do
    run pexec-slurm sh -c "'$pexec' --slurm echo < '$work/items'"
    run parallel-srun sh -c "parallel --will-cite -j \$SLURM_NTASKS srun --exact -N1 -n1 -Q echo < '$work/items'"
  done
  for label in pexec-slurm parallel-srun; do median "$label"; done |
    awk '{ label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if (NR==1) base=$2 }
         END { print "== 50 trivial jobs as job steps in one allocation of 2 tasks (medians of '"${ROUNDS:-3}"')";
               printf "%-16s %9s %9s %9s\n", "run", "wall s", "x pexec", "RSS KB";
               for (i=1;i<=NR;i++) printf "%-16s %9.3f %9.2f %9d\n", label[i], secs[i], secs[i]/base, rss[i] }'
  exit 0
fi
pexec=$(realpath "${1:-$here/../build/pexec}")
work=$(mktemp -d)
cluster=$work/cluster
trap '"$here/../tests/fixtures/slurm_cluster.sh" stop "$cluster"; rm -rf "$work"' EXIT
"$here/../tests/fixtures/slurm_cluster.sh" start "$cluster"
"$cluster/run" salloc -Q -n 2 bash "$here/slurm.sh" --inside "$pexec" "$work"

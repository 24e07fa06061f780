#!/usr/bin/env bash
# Remote jobs over ssh: 200 trivial jobs on two loopback hosts (two sshds of the bench's own, from
# tests/fixtures/ssh_hosts.sh; root only), 4 at a time on each, pexec -S against GNU parallel -S
# with and without its ControlMaster (-M). Medians of ROUNDS runs (default 3), taken in turns.
#   bash bench/remote.sh [path/to/pexec]        (needs GNU parallel: bench/install-bench-deps)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
hosts=$work/hosts
trap '"$here/../tests/fixtures/ssh_hosts.sh" stop "$hosts"; rm -rf "$work"' EXIT
source "$here/timing.sh"
"$here/../tests/fixtures/ssh_hosts.sh" start "$hosts"
ssh="ssh -F $hosts/ssh_config"
seq 200 > "$work/items"

# Each tool must run every job, on both hosts: a failed run is reported, never timed.
check() {
  local label=$1 count
  count=$(grep -c '^h[12]$' "$work/out" || true)
  [ "$count" = 200 ] || { echo "FAILED: $label ran $count of 200 jobs: $(head -c 300 "$work/err")" >&2; exit 1; }
}
run() {  # run LABEL CMD...: one timed run, checked
  time_once "$1" "${@:2}"
  check "$1"
}
for _ in $(seq "${ROUNDS:-3}"); do
  run pexec sh -c "'$pexec' --ssh '$ssh' -S 4/h1,4/h2 'echo \$PARALLEL_SSHHOST # {}' < '$work/items'"
  run pexec-no-master sh -c "'$pexec' --ssh '$ssh' --no-controlmaster -S 4/h1,4/h2 'echo \$PARALLEL_SSHHOST # {}' < '$work/items'"
  run gnu-parallel sh -c "parallel --will-cite --ssh '$ssh' -S 4/h1,4/h2 'echo \$PARALLEL_SSHHOST # {}' < '$work/items'"
  run gnu-parallel-M sh -c "parallel --will-cite -M --ssh '$ssh' -S 4/h1,4/h2 'echo \$PARALLEL_SSHHOST # {}' < '$work/items'"
done
{
  for label in pexec pexec-no-master gnu-parallel gnu-parallel-M; do median "$label"; done
} | awk '{ label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if (NR==1) base=$2 }
         END { print "== 200 trivial jobs on 2 loopback hosts, 4 slots each (medians of '"${ROUNDS:-3}"')";
               printf "%-18s %9s %9s %9s\n", "run", "wall s", "x pexec", "RSS KB";
               for (i=1;i<=NR;i++) printf "%-18s %9.3f %9.2f %9d\n", label[i], secs[i], secs[i]/base, rss[i] }'

#!/usr/bin/env bash
# What watching a run costs: --bar on 2000 trivial jobs on a terminal (script(1) gives every run
# the same pseudo-terminal), against the same run without it and against GNU parallel with and
# without its --bar; and the output modes (grouped, --line-buffer, -u) on jobs that print a lot,
# against GNU parallel's.
#   bash bench/terminal.sh [path/to/pexec]        (needs GNU parallel: bench/install-bench-deps)
# BASELINE=path/to/an/older/pexec adds its plain run (pexec-before), in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

report() {  # report TITLE: the timings on stdin, with the ratio to the first row
  echo "== $1"
  awk '{ label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if (NR==1) base=$2 }
       END { printf "%-22s %9s %9s %9s\n", "run", "wall s", "x first", "RSS KB";
             for (i=1;i<=NR;i++) printf "%-22s %9.3f %9.2f %9d\n", label[i], secs[i], secs[i]/base, rss[i] }'
}

seq 2000 > "$work/items"
# pexec's runs take turns, 9 rounds (this machine's spawn times drift by 20 % over a minute;
# taking turns gives each variant the same drift); GNU parallel's, 3 runs each.
variants=(pexec "-j 8" pexec-bar "-j 8 --bar" pexec-progress "-j 8 --progress")
{
  for _ in 1 2 3 4 5 6 7 8 9; do
    for ((i = 0; i < ${#variants[@]}; i += 2)); do
      time_once "${variants[i]}" script -qec "'$pexec' ${variants[i+1]} true < '$work/items'" /dev/null
    done
    [ -z "${BASELINE:-}" ] || time_once pexec-before script -qec "'$BASELINE' -j 8 true < '$work/items'" /dev/null
  done
  for ((i = 0; i < ${#variants[@]}; i += 2)); do median "${variants[i]}"; done
  [ -z "${BASELINE:-}" ] || median pexec-before
  for _ in 1 2 3; do
    time_once gnu-parallel script -qec "parallel --will-cite -j 8 true < '$work/items'" /dev/null
    time_once gnu-parallel-bar script -qec "parallel --will-cite -j 8 --bar true < '$work/items'" /dev/null
  done
  median gnu-parallel
  median gnu-parallel-bar
} | report "2000 trivial jobs, -j 8, on a terminal"

# 64 jobs of 100,000 lines each (38 MB in all), output to a file.
seq 64 > "$work/64"
{
  time_cmd pexec-grouped     sh -c "'$pexec' -j 8 'seq 100000' < '$work/64'"
  time_cmd pexec-line-buffer sh -c "'$pexec' -j 8 --line-buffer 'seq 100000' < '$work/64'"
  time_cmd pexec-ungroup     sh -c "'$pexec' -j 8 -u 'seq 100000' < '$work/64'"
  time_cmd gnu-grouped       sh -c "parallel --will-cite -j 8 'seq 100000' < '$work/64'"
  time_cmd gnu-line-buffer   sh -c "parallel --will-cite -j 8 --line-buffer 'seq 100000' < '$work/64'"
  time_cmd gnu-ungroup       sh -c "parallel --will-cite -j 8 -u 'seq 100000' < '$work/64'"
} | report "64 jobs x 100,000 lines, -j 8, to a file"

#!/usr/bin/env bash
# Shell-job benchmark: pexec side by side with xargs -P, GNU parallel, moreutils parallel and a
# posix_spawn-only floor, on the same job lists, in one run. Prints wall times and ratios.
#   bash bench/shell-jobs.sh [path/to/pexec]        (needs bench/install-bench-deps)
# BASELINE=path/to/an/older/pexec adds its rows (pexec-before), to compare in the same run.
# BIG=1 adds the 1,000,000-line input (about 7 minutes per tool at this machine's spawn rate).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/floor" "$here/spawn_floor.c"

seq 2000 > "$work/items"
sed 's/^/i=/; s/$/; true/' "$work/items" > "$work/lines"   # shell syntax: every tool needs sh -c
seq 200 > "$work/200"

source "$here/timing.sh"

report() {  # report TITLE JOBS: the timings on stdin, with jobs/s and the ratio to the floor
  local title=$1 jobs=$2
  echo "== $title"
  awk -v jobs="$jobs" '
    { label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if ($1=="floor") floor=$2 }
    END { printf "%-18s %9s %10s %10s %9s\n", "tool", "wall s", "jobs/s", "x floor", "RSS KB";
          for (i=1;i<=NR;i++) printf "%-18s %9.3f %10.0f %10.2f %9d\n", label[i], secs[i], jobs/secs[i], (floor? secs[i]/floor : 0), rss[i] }'
}

for j in 2 8; do
  {
    time_cmd floor        sh -c "'$work/floor' $j true < '$work/items'"
    time_cmd pexec        sh -c "'$pexec' -j $j true < '$work/items'"
    time_cmd pexec-proc   sh -c "'$pexec' -m process -j $j true < '$work/items'"
    [ -z "${BASELINE:-}" ] || time_cmd pexec-before sh -c "'$BASELINE' -j $j true < '$work/items'"
    time_cmd xargs        sh -c "xargs -P $j -n 1 true < '$work/items'"
    time_cmd moreutils    sh -c "parallel.moreutils -j $j true -- \$(cat '$work/items')"
    time_cmd gnu-parallel sh -c "parallel -j $j true < '$work/items'"
  } | report "2000 trivial jobs as commands, -j $j" 2000
  {
    time_cmd floor        sh -c "'$work/floor' $j < '$work/lines'"
    time_cmd pexec        sh -c "'$pexec' -j $j < '$work/lines'"
    time_cmd pexec-proc   sh -c "'$pexec' -m process -j $j < '$work/lines'"
    [ -z "${BASELINE:-}" ] || time_cmd pexec-before sh -c "'$BASELINE' -j $j < '$work/lines'"
    time_cmd xargs        sh -c "xargs -P $j -I{} -d '\n' sh -c '{}' < '$work/lines'"
    time_cmd moreutils    sh -c "parallel.moreutils -j $j -i sh -c '{}' -- \$(sed 's/ //g' '$work/lines')"
    time_cmd gnu-parallel sh -c "parallel -j $j < '$work/lines'"
  } | report "2000 trivial jobs as shell lines, -j $j" 2000
done

# 200 jobs that each print 1 MB, at -j 4. xargs interleaves (tears) the outputs; GNU parallel
# and pexec group each job's output.
mb='head -c 1000000 /dev/zero'
{
  time_cmd floor        sh -c "'$work/floor' 4 sh -c '$mb #' < '$work/200'"
  time_cmd pexec        sh -c "'$pexec' -j 4 '$mb #' < '$work/200'"
  time_cmd pexec-proc   sh -c "'$pexec' -m process -j 4 '$mb #' < '$work/200'"
  [ -z "${BASELINE:-}" ] || time_cmd pexec-before sh -c "'$BASELINE' -j 4 '$mb #' < '$work/200'"
  time_cmd xargs        sh -c "xargs -P 4 -n 1 sh -c '$mb #' < '$work/200'"
  time_cmd gnu-parallel sh -c "parallel -j 4 '$mb #' < '$work/200'"
} | report "200 jobs x 1 MB of output, -j 4 (floor and xargs: not grouped)" 200

# Start-up: one trivial job, 200 times in a row.
{
  time_cmd xargs sh -c "for i in \$(seq 200); do echo x | xargs true; done"
  time_cmd pexec sh -c "for i in \$(seq 200); do '$pexec' true ::: x; done"
} | report "start-up: 200 runs of one trivial job" 200

if [ "${BIG:-0}" = 1 ]; then
  seq 1000000 > "$work/million"
  {
    time_cmd floor sh -c "'$work/floor' 8 true < '$work/million'"
    time_cmd pexec sh -c "'$pexec' -j 8 true < '$work/million'"
    time_cmd xargs sh -c "xargs -P 8 -n 1 true < '$work/million'"
  } | report "1,000,000-line input, -j 8 (peak RSS is the figure)" 1000000
fi

#!/usr/bin/env bash
# What the records cost: the joblog and the JUnit report on 2000 trivial jobs, against the same
# run without them and against GNU parallel with its joblog; --resume over a long joblog; and
# the peak memory of a JUnit report over many jobs (written through a temporary file, so flat).
#   bash bench/records.sh [path/to/pexec]        (needs GNU parallel: bench/install-bench-deps)
# BASELINE=path/to/an/older/pexec adds its plain run (pexec-before), in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$here/timing.sh"

seq 2000 > "$work/items"

report() {  # report TITLE: the timings on stdin, with the ratio to the first row
  echo "== $1"
  awk '{ label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if (NR==1) base=$2 }
       END { printf "%-22s %9s %9s %9s\n", "run", "wall s", "x first", "RSS KB";
             for (i=1;i<=NR;i++) printf "%-22s %9.3f %9.2f %9d\n", label[i], secs[i], secs[i]/base, rss[i] }'
}

{
  time_cmd pexec              sh -c "'$pexec' -j 8 true < '$work/items'"
  time_cmd pexec-joblog       sh -c "'$pexec' -j 8 --joblog '$work/log' true < '$work/items'"
  time_cmd pexec-joblog-junit sh -c "'$pexec' -j 8 --joblog '$work/log' --junit '$work/junit.xml' true < '$work/items'"
  [ -z "${BASELINE:-}" ] || time_cmd pexec-before sh -c "'$BASELINE' -j 8 true < '$work/items'"
  time_cmd gnu-parallel       sh -c "parallel --will-cite -j 8 true < '$work/items'"
  time_cmd gnu-joblog         sh -c "parallel --will-cite -j 8 --joblog '$work/gnu-log' true < '$work/items'"
} | report "2000 trivial jobs, -j 8"

# A run of 100,000 jobs interrupted before its last one: --resume skips 100,000 rows and runs
# one job.
seq 100001 > "$work/many"
awk 'BEGIN { print "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand" }
     { printf "%d\t:\t1796190000.000\t     0.001\t0\t0\t0\t0\ttrue %d\n", $1, $1 }' <(seq 100000) > "$work/resume.log"
{
  time_cmd pexec-resume sh -c "cp '$work/resume.log' '$work/r1'; '$pexec' -j 8 --joblog '$work/r1' --resume true < '$work/many'"
  time_cmd gnu-resume   sh -c "cp '$work/resume.log' '$work/r2'; parallel --will-cite -j 8 --joblog '$work/r2' --resume true < '$work/many'"
} | report "--resume past 100,000 joblog rows, one job left"

# Memory with a JUnit report of 10,000 jobs that each fail with a line on stderr.
seq 10000 > "$work/10k"
{
  time_once pexec-10k sh -c "'$pexec' -j 8 'echo oops >&2; false' < '$work/10k'"; median pexec-10k
  time_once pexec-10k-junit sh -c "'$pexec' -j 8 --junit '$work/big.xml' 'echo oops >&2; false' < '$work/10k'"; median pexec-10k-junit
} | report "10,000 failing jobs, -j 8: peak RSS with and without --junit"
echo "junit.xml of 10,000 jobs: $(wc -c < "$work/big.xml") bytes"

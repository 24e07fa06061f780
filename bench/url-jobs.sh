#!/usr/bin/env bash
# URL-job benchmark: pexec (thread and process mode) side by side with wget2, curl --parallel
# and xargs -P N -n 50 curl, fetching 5000 URLs of a 1 KB file from a private nginx on
# 127.0.0.1:18931, at N = 8 and 32, in one run. Prints wall times, requests/s and ratios to wget2.
#   bash bench/url-jobs.sh [path/to/pexec]          (needs bench/install-bench-deps)
# BASELINE=path/to/an/older/pexec adds its rows (pexec-before), to compare in the same run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
mkdir -p "$work/www" "$work/tmp"
head -c 1024 /dev/zero | tr '\0' x > "$work/www/f1k"
nginx -p "$work" -c "$here/nginx.conf"
trap 'nginx -p "$work" -c "$here/nginx.conf" -s stop; rm -rf "$work"' EXIT
for _ in $(seq 50); do curl -fso /dev/null http://127.0.0.1:18931/f1k && break; sleep 0.1; done

count=5000
for i in $(seq $count); do echo "http://127.0.0.1:18931/f1k?i=$i"; done > "$work/urls"
{ echo 'silent'; sed 's/.*/url = "&"\noutput = "\/dev\/null"/' "$work/urls"; } > "$work/curl.config"

source "$here/timing.sh"

rounds=7
for n in 8 32; do
  echo "== $count GETs of a 1 KB file from nginx on 127.0.0.1, N = $n (median of $rounds rounds)"
  # Round-robin: each round runs every tool once, so a noisy moment of the machine hits all
  # tools alike instead of all the runs of one.
  for _ in $(seq $rounds); do
    time_once wget2         wget2 -q --robots=off --max-threads=$n -O /dev/null -i "$work/urls"
    time_once pexec         sh -c "'$pexec' -j $n < '$work/urls'"
    time_once pexec-proc    sh -c "'$pexec' -m process -j $n < '$work/urls'"
    if [ -n "${BASELINE:-}" ]; then
      time_once pexec-before      sh -c "'$BASELINE' -j $n < '$work/urls'"
      time_once pexec-proc-before sh -c "'$BASELINE' -m process -j $n < '$work/urls'"
    fi
    time_once curl-parallel curl --parallel --parallel-max $n -K "$work/curl.config"
    time_once xargs-curl    sh -c "xargs -P $n -n 50 curl -s < '$work/urls'"
  done
  labels="wget2 pexec pexec-proc curl-parallel xargs-curl"
  [ -n "${BASELINE:-}" ] && labels="$labels pexec-before pexec-proc-before"
  for label in $labels; do median $label; done | awk -v count=$count '
    { label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if ($1=="wget2") base=$2 }
    END { printf "%-18s %8s %10s %10s %9s\n", "tool", "wall s", "req/s", "x wget2", "RSS KB";
          for (i=1;i<=NR;i++) printf "%-18s %8.4f %10.0f %10.2f %9d\n", label[i], secs[i], count/secs[i], base/secs[i], rss[i] }'
done

#!/usr/bin/env bash
# URL-job benchmark: pexec (thread and process mode) side by side with wget2, curl --parallel
# and xargs -P N -n 50 curl, fetching 5000 URLs of a 1 KB file from a private nginx, over http
# (127.0.0.1:18931) and over https with HTTP/2 (127.0.0.1:18932, with a certificate from a CA
# the script makes, given to every tool), at N = 8 and 32, in one run. Prints wall times,
# requests/s and ratios to wget2.
# N is not the same thing to every tool over HTTP/2: pexec -j N, curl --parallel-max N and
# xargs -P N have N requests in flight, wget2 --max-threads=N has N connections with up to 30
# streams each (--http2-request-window). So the https tables also run wget2 with a window of 1
# (wget2-window1: N requests in flight) and give a second ratio against it ("x same N"); and the
# bench first counts each tool's requests in flight at N = 8, with URLs that take a second each.
# FLOORS=yes (the default) adds two floors, one thread each with N at once and nothing around
# them: libcurl's multi interface alone (curl-floor, bench/curl_multi_fetch.c: what pexec's loop
# costs over its library) and Boost.Beast (beast-floor, bench/beast_fetch.cpp, http only, as
# Beast has no HTTP/2: what another library would give). Beast needs libboost1.81-dev.
#   bash bench/url-jobs.sh [path/to/pexec]          (needs bench/install-bench-deps)
# COUNT=N and ROUNDS=N change the 5000 URLs and 7 rounds (for a quick look); PROTOCOLS=http or
# PROTOCOLS=https runs one of the two.
# BASELINE=path/to/an/older/pexec adds its rows (pexec-before), to compare in the same run.
# Every run is checked: nginx logs each request's status, and a run that did not get a 200 for
# each of the URLs (or whose tool failed) is reported as FAILED, never timed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pexec=${1:-$here/../build/pexec}
work=$(mktemp -d)
# nginx's workers run as nobody: the folder mktemp made (0700) must let them in.
chmod 755 "$work"
mkdir -p "$work/www" "$work/tmp"
head -c 1024 /dev/zero | tr '\0' x > "$work/www/f1k"
mkdir -p "$work/www/slow"
head -c 4096 /dev/zero | tr '\0' x > "$work/www/slow/f4k"  # a second each: nginx sends /slow/ at 4 KB/s
chmod -R a+rX "$work/www"
bash "$here/../tests/fixtures/test_ca.sh" "$work/tls"
ca=$work/tls/ca.pem
# A copy beside the files: nginx reads the certificate's relative path from the config's folder.
cp "$here/nginx.conf" "$work/nginx.conf"
nginx -p "$work" -c "$work/nginx.conf"
trap 'nginx -p "$work" -c "$work/nginx.conf" -s stop; rm -rf "$work"' EXIT
for url in http://127.0.0.1:18931/f1k https://127.0.0.1:18932/f1k; do
  ready=no
  for _ in $(seq 50); do
    if [ "$(curl --cacert "$ca" -so /dev/null -w '%{http_code}' $url)" = 200 ]; then ready=yes; break; fi
    sleep 0.1
  done
  if [ $ready = no ]; then
    echo "url-jobs.sh: nginx does not serve $url with status 200:" >&2
    curl --cacert "$ca" -sS -o /dev/null -w '%{http_code}\n' $url >&2 || true
    cat "$work/nginx-error.log" >&2 || true
    exit 1
  fi
done
: > "$work/access.log"

# url_list FILE COUNT PROTO PATH: COUNT URLs of PATH into FILE, and the same as curl's -K config
# into FILE.curl.
url_list() {
  local port; port=$([ "$3" = http ] && echo 18931 || echo 18932)
  for i in $(seq "$2"); do echo "$3://127.0.0.1:$port$4?i=$i"; done > "$1"
  { echo 'silent'; sed 's/.*/url = "&"\noutput = "\/dev\/null"/' "$1"; } > "$1.curl"
}

count=${COUNT:-5000}
for proto in http https; do
  url_list "$work/urls-$proto" "$count" $proto /f1k
  url_list "$work/slow-$proto" 32 $proto /slow/f4k
done

source "$here/timing.sh"

floors=""
if [ "${FLOORS:-yes}" = yes ]; then
  gcc -O2 -Wall -o "$work/curl-floor" "$here/curl_multi_fetch.c" -lcurl
  floors="curl-floor"
  if [ -e /usr/include/boost/beast.hpp ]; then
    g++ -std=c++20 -O2 -o "$work/beast-floor" "$here/beast_fetch.cpp"
    floors="$floors beast-floor"
  else
    echo "beast-floor skipped: no Boost.Beast headers (bench/install-bench-deps installs libboost1.81-dev)"
  fi
fi

# tools_for PROTO: the tools measured over PROTO (wget2-window1 over https only: over http/1.1
# wget2 has N requests in flight already; Beast has no TLS here).
tools_for() {
  local tools="wget2"
  [ "$1" = https ] && tools="$tools wget2-window1"
  tools="$tools pexec pexec-proc curl-parallel xargs-curl"
  for floor in $floors; do
    [ $floor = beast-floor ] && [ "$1" = https ] && continue
    tools="$tools $floor"
  done
  [ -n "${BASELINE:-}" ] && tools="$tools pexec-before pexec-proc-before"
  echo "$tools"
}

# command_for TOOL N URLS: sets cmd to TOOL's command line fetching the list URLS, N at once.
command_for() {
  local n=$2 urls=$3
  case $1 in
    wget2) cmd=(wget2 -q --robots=off --ca-certificate="$ca" --max-threads=$n -O /dev/null -i "$urls") ;;
    wget2-window1) cmd=(wget2 -q --robots=off --ca-certificate="$ca" --max-threads=$n --http2-request-window=1
                        -O /dev/null -i "$urls") ;;
    pexec) cmd=(sh -c "'$pexec' --cacert '$ca' -j $n < '$urls'") ;;
    pexec-proc) cmd=(sh -c "'$pexec' --cacert '$ca' -m process -j $n < '$urls'") ;;
    pexec-before) cmd=(sh -c "'$BASELINE' --cacert '$ca' -j $n < '$urls'") ;;
    pexec-proc-before) cmd=(sh -c "'$BASELINE' --cacert '$ca' -m process -j $n < '$urls'") ;;
    curl-parallel) cmd=(curl --fail --cacert "$ca" --parallel --parallel-max $n -K "$urls.curl") ;;
    xargs-curl) cmd=(sh -c "xargs -P $n -n 50 curl --cacert '$ca' -fs < '$urls'") ;;
    curl-floor | beast-floor) cmd=(sh -c "'$work/$1' $n '$ca' < '$urls'") ;;
  esac
}

# checked LABEL EXPECTED CMD...: time_once, then the run is kept only if CMD exited 0 and nginx
# served exactly EXPECTED requests, all with status 200; otherwise LABEL is marked failed.
checked() {
  local label=$1 expected=$2
  shift 2
  time_once "$label" "$@"
  local served ok status
  served=$(wc -l < "$work/access.log")
  ok=$(grep -c '^200$' "$work/access.log" || true)
  status=$(cat "$work/status")
  : > "$work/access.log"  # nginx appends (O_APPEND): the next run's lines start at 0
  if [ "$status" != 0 ] || [ "$served" != "$expected" ] || [ "$ok" != "$expected" ]; then
    sed -i '$d' "$work/times-$label"
    echo "exit $status, $ok of $expected requests got 200 ($served served)" >> "$work/failed-$label"
  fi
}

# Requests in flight at N = 8: 32 URLs that take a second each, fetched by each tool at once;
# 32 / wall time is about how many it had in flight. FLIGHT=no skips it.
if [ "${FLIGHT:-yes}" = yes ]; then
  for proto in ${PROTOCOLS:-http https}; do
    echo "== requests in flight at N = 8 over $proto (32 URLs of a second each)"
    printf '%-18s %8s %10s\n' tool "wall s" "in flight"
    for tool in $(tools_for $proto); do
      case $tool in xargs-curl | *-floor | *-before) continue ;; esac
      command_for $tool 8 "$work/slow-$proto"
      checked $tool 32 "${cmd[@]}"
      if [ -s "$work/failed-$tool" ]; then
        echo "FAILED $tool: $(head -n1 "$work/failed-$tool")"
      else
        read -r secs _ < "$work/times-$tool"
        awk -v t=$tool -v s="$secs" 'BEGIN { printf "%-18s %8.2f %10.1f\n", t, s, 32 / s }'
      fi
      rm -f "$work/failed-$tool" "$work/times-$tool"
    done
  done
fi

rounds=${ROUNDS:-7}
for proto in ${PROTOCOLS:-http https}; do
  urls=$work/urls-$proto
  for n in 8 32; do
    echo "== $count GETs of a 1 KB file from nginx on 127.0.0.1 over $proto, N = $n (median of $rounds rounds)"
    # Round-robin: each round runs every tool once, so a noisy moment of the machine hits all
    # tools alike instead of all the runs of one.
    for _ in $(seq $rounds); do
      for tool in $(tools_for $proto); do
        command_for $tool $n "$urls"
        checked $tool "$count" "${cmd[@]}"
      done
    done
    for label in $(tools_for $proto); do
      if [ -s "$work/failed-$label" ]; then  # one failed run fails the tool: its figure would lie
        echo "FAILED $label: $(head -n1 "$work/failed-$label")"
        rm -f "$work/failed-$label" "$work/times-$label"
      else
        median "$label"
      fi
    done | awk -v count=$count '
      $1 == "FAILED" { failed[NR] = $0; next }
      { label[NR]=$1; secs[NR]=$2; rss[NR]=$3; if ($1=="wget2") base=$2; if ($1=="wget2-window1") same=$2 }
      END { if (!same) same = base  # over http/1.1 wget2 has N requests in flight already
            printf "%-18s %8s %10s %10s %10s %9s\n", "tool", "wall s", "req/s", "x wget2", "x same N", "RSS KB";
            for (i=1;i<=NR;i++) {
              if (i in failed) { print failed[i]; continue }
              printf "%-18s %8.4f %10.0f %10s %10s %9d\n", label[i], secs[i], count/secs[i],
                     base ? sprintf("%.2f", base/secs[i]) : "-", same ? sprintf("%.2f", same/secs[i]) : "-", rss[i] } }'
  done
done

# Memory: pexec's peak RSS for 10,000 and 100,000 URLs from standard input (-j 8, http, one
# run each): flat when the input is streamed, not held. MEMORY=no skips it.
if [ "${MEMORY:-yes}" = yes ]; then
  echo "== peak RSS of pexec -j 8 for URLs from stdin (one run each)"
  printf '%-12s %8s %8s %10s\n' mode URLs "wall s" "RSS KB"
  for lines in 10000 100000; do
    for i in $(seq $lines); do echo "http://127.0.0.1:18931/f1k?i=$i"; done > "$work/urls-many"
    for mode in thread process; do
      /usr/bin/time -o "$work/rss" -f '%e %M' "$pexec" -m $mode -j 8 < "$work/urls-many" > /dev/null
      served=$(grep -c '^200$' "$work/access.log" || true)
      : > "$work/access.log"
      if [ "$served" != "$lines" ]; then echo "FAILED $mode $lines: $served of $lines requests got 200"; continue; fi
      read -r secs rss < "$work/rss"
      printf '%-12s %8d %8.2f %10d\n' $mode $lines "$secs" "$rss"
    done
  done
fi

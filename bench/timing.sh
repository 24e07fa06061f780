# Sourced by the bench scripts. time_cmd LABEL CMD...: prints "LABEL SECONDS RSS_KB", the median
# of 5 runs (so that one noisy run does not decide a ratio); wall time to the microsecond
# (/usr/bin/time's %e has 10 ms steps, too coarse for 0.1 s runs), peak RSS from /usr/bin/time.
# CMD's output goes to a file, as a user's would: to /dev/null, xargs' jobs would skip the write
# every grouping tool must do. Needs $work (a scratch directory).
time_cmd() {
  local label=$1; shift
  for run in 1 2 3 4 5; do
    local start=$EPOCHREALTIME
    /usr/bin/time -f "%M" -o "$work/rss$run" "$@" > "$work/out" 2> "$work/err" || true
    local end=$EPOCHREALTIME
    echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f", e - s }') $(tail -n1 "$work/rss$run")"
  done | sort -n | sed -n 3p | { read -r secs rss; printf '%s %s %s\n' "$label" "$secs" "$rss"; }
}

# Sourced by the bench scripts. time_cmd LABEL CMD...: prints "LABEL SECONDS RSS_KB", the median
# of 3 runs (so that one noisy run does not decide a ratio). CMD's output goes to a file, as a
# user's would: to /dev/null, xargs' jobs would skip the write every grouping tool must do.
# Needs $work (a scratch directory).
time_cmd() {
  local label=$1; shift
  for run in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/t$run" "$@" > "$work/out" 2> "$work/err" || true
  done
  read -r secs rss < <(tail -qn1 "$work/t1" "$work/t2" "$work/t3" | sort -n | sed -n 2p)
  printf '%s %s %s\n' "$label" "$secs" "$rss"
}

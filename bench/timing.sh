# Sourced by the bench scripts. Needs $work (a scratch directory). Wall time is taken to the
# microsecond (/usr/bin/time's %e has 10 ms steps, too coarse for 0.1 s runs), peak RSS from
# /usr/bin/time. CMD's output goes to a file, as a user's would: to /dev/null, xargs' jobs would
# skip the write every grouping tool must do.

# time_once LABEL CMD...: runs CMD once and adds "SECONDS RSS_KB" to LABEL's list; CMD's exit
# status is left in $work/status.
time_once() {
  local label=$1; shift
  local start=$EPOCHREALTIME
  if /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/out" 2> "$work/err"; then
    echo 0 > "$work/status"
  else
    echo $? > "$work/status"
  fi
  local end=$EPOCHREALTIME
  echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f", e - s }') $(tail -n1 "$work/rss")" >> "$work/times-$label"
}

# median LABEL: prints "LABEL SECONDS RSS_KB", the run of median time in LABEL's list, and
# empties the list.
median() {
  local label=$1
  local count; count=$(wc -l < "$work/times-$label")
  sort -n "$work/times-$label" | sed -n "$(( (count + 1) / 2 ))p" | { read -r secs rss; printf '%s %s %s\n' "$label" "$secs" "$rss"; }
  rm -f "$work/times-$label"
}

# time_cmd LABEL CMD...: the median of 5 runs of CMD in a row.
time_cmd() {
  local label=$1; shift
  for _ in 1 2 3 4 5; do time_once "$label" "$@"; done
  median "$label"
}

#!/usr/bin/env bash
# Checks an installed pexec-runner and libpexec-dev as their users meet them: the command runs
# the bundled example job list, the manual renders, the completions load, and the examples build
# against the installed library with find_package(pexec).
# Usage: check_installed.sh ROOT SOURCE_DIR WORK_DIR
#   ROOT: / after `dpkg -i`, or the scratch root `dpkg -x` filled (then paths are under it).
set -euo pipefail
root=${1%/}
source_dir=$2
work_dir=$3
fail() { echo "FAILED: $*" >&2; exit 1; }
pexec=$root/usr/bin/pexec

# The command: its version and licence, the bundled example list, a failing job's exit status.
[ -x "$pexec" ] || fail "no $pexec"
"$pexec" --version | grep -q '^pexec [0-9.]*$' || fail "--version has no version line"
"$pexec" --version | grep -q 'MIT licence' || fail "--version names no licence"
out=$("$pexec" -k -j 4 -a "$source_dir/tests/data/example-jobs.txt" 2>/dev/null)
[ "$(printf '%s\n' "$out" | head -1)" = "hello from the first job" ] || fail "example list: $out"
printf '%s\n' "$out" | grep -qx "and their output stays together" || fail "example list: $out"
status=0
"$pexec" ::: true false 2>/dev/null || status=$?
[ "$status" = 1 ] || fail "a failing job gave exit status $status, not 1"
file "$pexec" | grep -q ', stripped' || fail "the binary is not stripped: $(file "$pexec")"
echo "ok: $pexec runs ($(stat -c %s "$pexec") bytes, stripped)"

# The manual, compressed where man looks for it, renders with no warning.
page=$root/usr/share/man/man1/pexec.1.gz
[ -f "$page" ] || fail "no $page"
warnings=$(zcat "$page" | groff -man -Tutf8 -ww -z 2>&1)
[ -z "$warnings" ] || fail "the manual warns: $warnings"
if [ "$root" = "" ] && command -v man >/dev/null; then
  [ "$(man -w pexec)" = /usr/share/man/man1/pexec.1.gz ] || fail "man -w pexec: $(man -w pexec)"
  MANWIDTH=80 man pexec 2>/dev/null | grep -q 'GNU PARALLEL AND XARGS' || fail "man pexec does not show the page"
fi
echo "ok: the manual"

# Completions where bash-completion, zsh and fish look for them; bash's loads and completes.
for file in bash-completion/completions/pexec zsh/vendor-completions/_pexec fish/vendor_completions.d/pexec.fish; do
  [ -f "$root/usr/share/$file" ] || fail "no $root/usr/share/$file"
done
offered=$(bash -c "source '$root/usr/share/bash-completion/completions/pexec'; complete -p pexec >/dev/null &&
  COMP_WORDS=(pexec --mo); COMP_CWORD=1; _pexec; printf '%s\n' \"\${COMPREPLY[@]}\"")
[ "$offered" = "--mode" ] || fail "bash completion of --mo offered: $offered"
echo "ok: completions"

# The licence, in Debian's place, in both packages.
for package in pexec-runner libpexec-dev; do
  grep -q '^License: MIT' "$root/usr/share/doc/$package/copyright" || fail "no MIT copyright for $package"
done

# The library: the examples build against the installed headers and CMake config, and run.
cmake -DSOURCE_DIR="$source_dir" -DPREFIX="$root/usr" -DWORK_DIR="$work_dir" -DCXX="${CXX:-c++}" \
      -P "$source_dir/tests/examples/consumer/run.cmake" > "$work_dir.log" 2>&1 || { cat "$work_dir.log"; fail "the examples"; }
grep -q "1099726899285419 is prime: False" "$work_dir.log" || fail "the examples' output: $(cat "$work_dir.log")"
echo "ok: the library's examples build and run against $root/usr"
echo "the installed package works"

#!/usr/bin/env bash
# The Debian packages as `cpack -G DEB` makes them from a build directory: their control fields,
# lintian (no error, no warning), and their contents unpacked into a scratch root (`dpkg -x`)
# and checked by check_installed.sh. (.ci/run installs them with dpkg -i and checks them again.)
# Usage: package_test.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
build_dir=$1
source_dir=$2
work_dir=$3
fail() { echo "FAILED: $*" >&2; exit 1; }
rm -rf "$work_dir"
mkdir -p "$work_dir"
(cd "$build_dir" && cpack -G DEB -B "$work_dir/debs" > "$work_dir/cpack.log" 2>&1) || { cat "$work_dir/cpack.log"; fail cpack; }
cli=$(ls "$work_dir"/debs/pexec-runner_*_amd64.deb)
dev=$(ls "$work_dir"/debs/libpexec-dev_*_all.deb)

field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$cli" Conflicts)" = pexec ] || fail "pexec-runner does not conflict with GNU pexec"
[ "$(field "$cli" Replaces)" = pexec ] || fail "pexec-runner does not replace GNU pexec"
depends=$(field "$cli" Depends)
[[ "$depends" == *"libc6 (>= "* ]] || fail "Depends lacks the computed libc6: $depends"
[[ "$depends" == *"libcurl4 (>= 7.80)"* ]] || fail "Depends lacks libcurl4: $depends"
[ "$(field "$dev" Architecture)" = all ] || fail "libpexec-dev is not Architecture: all"
echo "ok: control fields (Depends: $depends)"

if command -v lintian >/dev/null; then
  # --fail-on warning: a warning fails the test too.
  lintian --fail-on error,warning "$cli" "$dev" || fail "lintian"
  echo "ok: lintian reports no error and no warning"
else
  echo "skipped: lintian is not installed (.ci/install-deps installs it)"
fi

for deb in "$cli" "$dev"; do dpkg -x "$deb" "$work_dir/root"; done
"$source_dir/tests/package/check_installed.sh" "$work_dir/root" "$source_dir" "$work_dir/examples"

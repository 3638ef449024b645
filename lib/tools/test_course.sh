#!/usr/bin/env bash
# Tests of the ./course launcher itself: its answer to an unknown command, the rebuild of a moved .venv, apt-get's
# own error on a failed install, the JDK checks and install hints, and no bash-4-only syntax (macOS has bash 3.2).
# Runs in a few seconds, with no network and no build; prints one line per test, then "launcher: N passed, N failed".
#   bash lib/tools/test_course.sh
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
COURSE="$ROOT/course"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/test-course.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0

check() {   # check NAME CONDITION-EXIT-CODE DETAIL
  if [ "$2" = 0 ]; then echo "PASS  $1"; passed=$((passed + 1)); else echo "FAIL  $1: $3"; failed=$((failed + 1)); fi
}
# Runs a snippet with the launcher's functions loaded (sourced, stopping before its command dispatch).
with_course() { ( COURSE_FUNCTIONS_ONLY=1; . "$COURSE"; eval "$1" ); }

# 1. An unknown command is named, the usage follows, and the exit code is not 0.
out="$(bash "$COURSE" bogus 2>&1)"; rc=$?
[ "$rc" = 2 ] && printf '%s' "$out" | grep -q "unknown command 'bogus'" && printf '%s' "$out" | grep -q './course setup'
check "unknown command: message, usage, exit 2" $? "exit $rc, output: $out"

out="$(bash "$COURSE" --help 2>&1)"; rc=$?
[ "$rc" = 0 ] && printf '%s' "$out" | grep -q './course start' && ! printf '%s' "$out" | grep -q 'unknown command'
check "--help: usage, exit 0" $? "exit $rc, output: $out"

# 2. A .venv whose scripts name another folder (the project was moved) is found; a symlinked .venv is fine.
python3 -m venv --without-pip "$TMP/old/.venv" >/dev/null 2>&1
printf '#!%s\nimport sys\n' "$TMP/old/.venv/bin/python" >"$TMP/old/.venv/bin/jupyter"
state="$(with_course "VENV='$TMP/old/.venv'; venv_state")"
[ "$state" = ok ]; check "venv_state: fresh .venv is ok" $? "got '$state'"
mv "$TMP/old" "$TMP/new"
state="$(with_course "VENV='$TMP/new/.venv'; venv_state")"
[ "$state" = "moved $TMP/old/.venv" ]; check "venv_state: moved project folder is detected" $? "got '$state'"
mkdir -p "$TMP/worktree" && ln -s "$TMP/new/.venv" "$TMP/worktree/.venv"
printf '#!%s\nimport sys\n' "$TMP/new/.venv/bin/python" >"$TMP/new/.venv/bin/jupyter"
state="$(with_course "VENV='$TMP/worktree/.venv'; venv_state")"
[ "$state" = ok ]; check "venv_state: symlinked .venv is ok" $? "got '$state'"
mkdir -p "$TMP/with space" && ln -s "$TMP/new/.venv" "$TMP/with space/.venv"
printf '#!/bin/sh\n'"'''exec' \"%s\" \"\$0\" \"\$@\"\n' '''\n" "$TMP/with space/.venv/bin/python" >"$TMP/new/.venv/bin/jupyter"
state="$(with_course "VENV='$TMP/with space/.venv'; venv_state")"
[ "$state" = ok ]; check "venv_state: pip's /bin/sh form (path with a space) is ok" $? "got '$state': $(cat "$TMP/new/.venv/bin/jupyter")"
out="$(with_course "VENV='$TMP/new/.venv'; STAMPS='$TMP/stamps'; python3() { echo \"python3 \$*\"; [ \"\$1\" != -m ] || exit 0; command python3 \"\$@\"; }
  printf '#!%s\n' '$TMP/old/.venv/bin/python' >'$TMP/new/.venv/bin/jupyter'; setup_venv" 2>&1)"
printf '%s' "$out" | grep -q "was made in $TMP/old/.venv (the project folder was moved" \
  && printf '%s' "$out" | grep -q "python3 -m venv --clear $TMP/new/.venv"
check "setup_venv: says why and rebuilds a moved .venv" $? "output: $out"

# 3. A failed apt-get shows apt's own error and waits for a held lock.
mkdir -p "$TMP/bin"
cat >"$TMP/bin/apt-get" <<EOT
#!/bin/sh
echo "\$*" >>"$TMP/apt-args"
echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2
exit 100
EOT
chmod +x "$TMP/bin/apt-get"
out="$(with_course "PATH='$TMP/bin':\$PATH; apt_install fonts-ipafont-gothic" 2>&1)"; rc=$?
[ "$rc" = 100 ] && printf '%s' "$out" | grep -q 'It is held by process 4242' && printf '%s' "$out" | grep -q 'failed (exit 100)' \
  && grep -q 'DPkg::Lock::Timeout=120' "$TMP/apt-args"
check "apt_install: shows apt-get's error, waits for the lock" $? "exit $rc, output: $out, args: $(cat "$TMP/apt-args" 2>/dev/null)"

# 4. JDK checks: a JAVA_HOME without java, and a runtime without javac/jshell, are refused with the fix.
out="$(with_course "JAVA_HOME='$TMP/nojava'; pick_java" 2>&1)"; rc=$?
[ "$rc" != 0 ] && printf '%s' "$out" | grep -q "JAVA_HOME=$TMP/nojava has no bin/java"
check "pick_java: JAVA_HOME without bin/java" $? "exit $rc, output: $out"
mkdir -p "$TMP/jre/bin"
printf '#!/bin/sh\necho "    java.specification.version = 21" >&2\n' >"$TMP/jre/bin/java" && chmod +x "$TMP/jre/bin/java"
out="$(with_course "JAVA_HOME='$TMP/jre'; pick_java" 2>&1)"; rc=$?
[ "$rc" != 0 ] && printf '%s' "$out" | grep -q "is a Java runtime without the JDK's jshell and javac"
check "pick_java: a runtime (JRE) is refused" $? "exit $rc, output: $out"
cp "$TMP/jre/bin/java" "$TMP/jre/bin/javac" && cp "$TMP/jre/bin/java" "$TMP/jre/bin/jshell"
out="$(with_course "JAVA_HOME='$TMP/jre'; pick_java; echo \"JAVA_HOME=\$JAVA_HOME major=\$(java_major \"\$JAVA_HOME\")\"; command -v java" 2>&1)"
printf '%s' "$out" | grep -q "JAVA_HOME=$TMP/jre major=21" && printf '%s' "$out" | grep -q "^$TMP/jre/bin/java$"
check "pick_java: JAVA_HOME's JDK comes first on PATH" $? "output: $out"

# 5. Install hints name each platform's installer.
for case in "Darwin|jdk|brew install openjdk@17" "Darwin|maven|brew install maven" "Linux|maven|apt-get install maven" \
    "Linux|venv|apt-get install python3-venv" "MINGW64_NT-10.0|jdk|winget install EclipseAdoptium.Temurin.17.JDK" \
    "MINGW64_NT-10.0|maven|winget install Apache.Maven"; do
  os="${case%%|*}"; rest="${case#*|}"; tool="${rest%%|*}"; want="${rest#*|}"
  out="$(with_course "uname() { echo '$os'; }; install_hint $tool")"
  printf '%s' "$out" | grep -qF "$want"; check "install_hint $tool on $os" $? "got '$out'"
done

# 6. No bash-4-only syntax in the launcher (macOS runs bash 3.2): negative array indices, associative arrays,
# mapfile/readarray, case conversion, &>> and |&, namerefs, coproc.
bad="$(grep -nE '\[-[0-9]+\]\}|declare -A|local -A|mapfile|readarray|\$\{[a-zA-Z_]+(,,|\^\^)|&>>|\|&|local -n|declare -n|coproc' "$COURSE" "$ROOT/binder/postBuild" "$ROOT/binder/check" || true)"
[ -z "$bad" ]; check "no bash-4-only syntax in course, binder/postBuild, binder/check" $? "$bad"

echo "launcher: $passed passed, $failed failed"
[ "$failed" = 0 ]

# The test harness: registering cases, running them, checks, and the summary line.
# Sourced by Tests/EndToEnd/run.

CASES=()        # "needs|function|description", in registration order
PASSED=0
FAILED=0
SKIPPED=0
CASE_OK=1       # cleared by fail() while a case runs
CASE_LOG=""     # the current case's notes, printed when it fails

# register NEEDS FUNCTION DESCRIPTION: NEEDS is "root" (the case creates users, services and
# daemons) or "any".
register() {
  CASES+=("$1|$2|$3")
}

# note TEXT...: kept for the failure report of the current case.
note() {
  CASE_LOG+="    $*"$'\n'
}

# fail TEXT...: the current case fails (it goes on, so later checks are reported too).
fail() {
  CASE_OK=0
  note "FAILED: $*"
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
  local what=$1
  shift
  "$@" || fail "$what"
}

# check_not DESCRIPTION COMMAND...: the command must fail.
check_not() {
  local what=$1
  shift
  ! "$@" || fail "$what"
}

# quietly COMMAND...: runs the command with its output discarded.
quietly() {
  "$@" >/dev/null 2>&1
}

# contains FILE PATTERN: FILE has a line matching the extended regular expression.
contains() {
  grep -Eq -- "$2" "$1"
}

# eventually SECONDS COMMAND...: polls the command until it succeeds, or fails after SECONDS.
# For effects another process makes after the one we waited for has ended (a daemon's log
# line), never as a delay.
eventually() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# run_cases [PATTERN]: runs every registered case whose function or description matches.
run_cases() {
  local pattern=${1:-} entry needs function description started elapsed
  for entry in "${CASES[@]}"; do
    IFS='|' read -r needs function description <<<"$entry"
    if [[ -n $pattern && ! ($function =~ $pattern || $description =~ $pattern) ]]; then continue; fi
    if [[ $needs == root && $EUID -ne 0 ]]; then
      echo "SKIPPED  $description (needs root: it creates users, PAM services and daemons)"
      SKIPPED=$((SKIPPED + 1))
      continue
    fi
    CASE_OK=1
    CASE_LOG=""
    started=$(date +%s%N)
    "$function" || fail "$function returned $?"
    elapsed=$((($(date +%s%N) - started) / 1000000))
    if ((CASE_OK)); then
      printf 'ok       %s (%d.%02d s)\n' "$description" $((elapsed / 1000)) $((elapsed % 1000 / 10))
      [[ -n ${E2E_VERBOSE:-} ]] && printf '%s' "$CASE_LOG"
      PASSED=$((PASSED + 1))
    else
      printf 'FAIL     %s\n%s' "$description" "$CASE_LOG"
      FAILED=$((FAILED + 1))
    fi
  done
}

# summary: the last line of the suite's output; the exit status is 1 if any case failed.
summary() {
  echo "end-to-end: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  ((FAILED == 0))
}

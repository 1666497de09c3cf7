# What the cases share: the built programs, a private scratch directory, a throwaway Unix
# account, its enrollment, and codes computed independently with oathtool. Everything made
# here is recorded and removed by cleanup, which runs on exit.
# Sourced by Tests/EndToEnd/run, which sets REPO.

MODULE=$REPO/build/pam_lockstep.so
CLI=$REPO/build/lockstep
EXAMPLES=$REPO/pam.d-examples
ANSWER=$REPO/Tests/EndToEnd/answer.exp

# One run's private names, so that runs on one machine (or a run left behind) never collide.
RUN_ID=$(tr -dc 'a-z' </dev/urandom | head -c 6)
SCRATCH=""      # made by make_scratch
STORE=""        # the store the PAM services use
TEST_USER=""    # made by make_test_user
TEST_PASSWORD=""
SECRET=""       # the test user's base32 secret
CLEANUPS=()     # commands that undo what was made, run last-made first

# on_exit COMMAND: registers a cleanup step.
on_exit() {
  CLEANUPS+=("$1")
}

cleanup() {
  local index
  for ((index = ${#CLEANUPS[@]} - 1; index >= 0; index--)); do
    eval "${CLEANUPS[index]}" || echo "cleanup: '${CLEANUPS[index]}' failed" >&2
  done
  CLEANUPS=()
}

make_scratch() {
  SCRATCH=$(mktemp -d /tmp/lockstep-e2e.XXXXXX)
  on_exit "rm -rf '$SCRATCH'"
  chmod 0755 "$SCRATCH"
  STORE=$SCRATCH/store
  install -d -m 0700 "$STORE"
}

# make_test_user: an account with a home, a password and a random secret (not enrolled yet).
make_test_user() {
  TEST_USER=lse2e$RUN_ID
  TEST_PASSWORD=pw-$(tr -dc 'a-zA-Z0-9' </dev/urandom | head -c 16)
  SECRET=$(head -c 20 /dev/urandom | base32)
  useradd --create-home --shell /bin/sh "$TEST_USER" || return 1
  on_exit "userdel --force --remove '$TEST_USER' 2>/dev/null; rm -f '/run/sudo/ts/$TEST_USER'"
  echo "$TEST_USER:$TEST_PASSWORD" | chpasswd
}

# enroll: enrolls the test user afresh with SECRET, as a sysadmin would in a script; the
# result (with the backup codes) is kept in $SCRATCH/enrollment.json.
enroll() {
  # Revoked first, so that every case starts afresh: a record that replaces one with the same
  # secret keeps its replay watermark, and the cases share one secret.
  unenroll || return 1
  echo "$SECRET" | "$CLI" enroll "$TEST_USER" --store "$STORE" --secret-file - --no-confirm --force --json \
    >"$SCRATCH/enrollment.json" || { fail "lockstep enroll failed"; return 1; }
}

# unenroll: makes sure the test user has no enrollment.
unenroll() {
  local status=0
  "$CLI" revoke "$TEST_USER" --store "$STORE" >/dev/null 2>&1 || status=$?
  # 3: not enrolled (any more).
  ((status == 0 || status == 3)) || { fail "lockstep revoke failed with status $status"; return 1; }
  "$CLI" status "$TEST_USER" --store "$STORE" >/dev/null 2>&1
  (($? == 3)) || { fail "lockstep status does not say the user is not enrolled"; return 1; }
}

# backup_code N: the Nth backup code issued by the last enroll.
backup_code() {
  jq -r ".backupCodes[$1]" "$SCRATCH/enrollment.json"
}

# state FIELD: a field of `lockstep status --json` for the test user (failures, locked, ...).
state() {
  "$CLI" status "$TEST_USER" --store "$STORE" --json | jq -r ".$1"
}

# expect_state FIELD VALUE: the field has that value.
expect_state() {
  local actual
  actual=$(state "$1")
  [[ $actual == "$2" ]] || fail "lockstep status: $1 is '$actual', expected '$2'"
}

# code: the current TOTP code for SECRET, from oathtool.
code() {
  oathtool --totp -b "$SECRET"
}

# wrong_code: a six-digit code that is none of the codes from two steps back to two ahead, so
# no window the module could use accepts it.
wrong_code() {
  local near candidate
  near=$(oathtool --totp -b -w 4 -N "@$(($(date +%s) - 60))" "$SECRET")
  candidate=$(code)
  while grep -qx "$candidate" <<<"$near"; do
    candidate=$(printf '%06d' $(((10#$candidate + 123457) % 1000000)))
  done
  echo "$candidate"
}

# answer COUNT ANSWER... PROGRAM [ARGUMENT...]: runs PROGRAM on a terminal answering its
# prompts (Tests/EndToEnd/answer.exp), with the transcript in $SCRATCH/transcript (carriage
# returns removed); returns PROGRAM's exit status.
answer() {
  local status=0
  expect -f "$ANSWER" "$@" </dev/null >"$SCRATCH/transcript.raw" 2>&1 || status=$?
  tr -d '\r' <"$SCRATCH/transcript.raw" >"$SCRATCH/transcript"
  note "transcript (exit $status): $(tr '\n' '|' <"$SCRATCH/transcript" | cut -c 1-600)"
  return $status
}

# prompted PATTERN: the program showed a prompt containing PATTERN.
prompted() {
  contains "$SCRATCH/transcript" "$1[^:]*: "
}

# prompts_were PROMPT...: the program's prompts were exactly these, in this order (each given
# as its text before the ": ", e.g. "Verification code").
prompts_were() {
  local seen expected prompt
  seen=$(grep -oE '(Verification code|Password|password for [^ :]+): ' "$SCRATCH/transcript")
  expected=$(for prompt in "$@"; do echo "$prompt: "; done)
  [[ $seen == "$expected" ]] || {
    note "prompts seen: $(tr '\n' '|' <<<"$seen")"
    return 1
  }
}

# mode_is PATH MODE: the file exists with that permission mode (and is root's when we are root).
mode_is() {
  local actual expected
  actual=$(stat -c '%a %U' "$1" 2>/dev/null) || {
    note "missing: $1"
    return 1
  }
  expected="$2 $(id -un)"
  [[ $actual == "$expected" ]] || {
    note "$1: mode and owner are '$actual', expected '$expected'"
    return 1
  }
}

# pam_service_from EXAMPLE [EXTRA_ARGUMENTS]: the example file, with the module's path and the
# store substituted on the line that loads it (and EXTRA_ARGUMENTS appended there): the only
# changes the tests make to the shipped files.
pam_service_from() {
  local file=$EXAMPLES/$1 extra=${2:+ $2}
  [[ $(grep -Ec '^[^#]*[[:space:]]pam_lockstep\.so' "$file") == 1 ]] || {
    fail "$1 does not load pam_lockstep.so exactly once"
    return 1
  }
  sed -E "/^[[:space:]]*#/! s|([[:space:]])pam_lockstep\.so|\1$MODULE store=$STORE$extra|" "$file"
}

# install_pam_service NAME EXAMPLE [EXTRA_ARGUMENTS]: /etc/pam.d/NAME from the example.
install_pam_service() {
  local target=/etc/pam.d/$1
  [[ -e $target ]] || on_exit "rm -f '$target'"
  pam_service_from "$2" "${3:-}" >"$target.tmp" && mv "$target.tmp" "$target"
}

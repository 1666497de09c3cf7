# A fleet: a real sshd login through lockstepd and PostgreSQL (scripts/fleet-sandbox, two
# agents host-a and host-b sharing one database), and the same code refused through the other
# host's agent.

FLEET_DIR=""    # the sandbox, made by the first fleet case and stopped on exit

# use_fleet: a running sandbox with two agents (started once per run).
use_fleet() {
  [[ -n $FLEET_DIR ]] && return 0
  FLEET_DIR=$SCRATCH/fleet
  on_exit "'$REPO/scripts/fleet-sandbox' stop '$FLEET_DIR' >/dev/null"
  if ! "$REPO/scripts/fleet-sandbox" start "$FLEET_DIR" 2 >"$SCRATCH/fleet-sandbox.log" 2>&1; then
    fail "scripts/fleet-sandbox start failed: $(tr '\n' '|' <"$SCRATCH/fleet-sandbox.log")"
    FLEET_DIR=""
    return 1
  fi
}

# use_agent HOST [SETUP [EXTRA_ARGUMENTS]]: sshd's PAM service (the shipped example SETUP,
# code-only by default) loads the module with agent= pointing at host HOST's agent instead of
# store=, and EXTRA_ARGUMENTS. sshd reads its PAM service at each login, so the running daemon
# needs no restart; the next case that needs another setup restarts it (SSHD_SETUP no longer
# matches), which writes its service afresh.
use_agent() {
  local setup=${2:-code-only} extra=${3:+ $3}
  use_sshd "$setup" || return 1
  sed -E "/^[[:space:]]*#/! s|([[:space:]])pam_lockstep\.so|\1$MODULE agent=$FLEET_DIR/host-$1.sock$extra|" \
    "$EXAMPLES/sshd-$setup" >"/etc/pam.d/$SSHD_SERVICE.tmp" &&
    mv "/etc/pam.d/$SSHD_SERVICE.tmp" "/etc/pam.d/$SSHD_SERVICE" || return 1
  # shellcheck disable=SC2034 # read by use_sshd (lib/sshd.sh)
  SSHD_SETUP="fleet host-$1 $setup$extra"
}

fleet_code_once_across_hosts() {
  use_fleet && enroll || return 1
  "$CLI" migrate --to-agent "$FLEET_DIR/host-a.sock" --store "$STORE" >"$SCRATCH/migrate.out" 2>&1 ||
    { fail "lockstep migrate --to-agent failed: $(tr '\n' '|' <"$SCRATCH/migrate.out")"; return 1; }
  check "migrate should copy the test user" contains "$SCRATCH/migrate.out" "^$TEST_USER: copied"
  # The local store must not decide: revoked there, the user exists only in the fleet.
  unenroll || return 1
  local used
  used=$(code)
  use_agent a || return 1
  ssh_login "$used"
  expect_logged_in
  check "host-a's agent should log the accepted code" eventually 10 contains "$FLEET_DIR/host-a.log" \
    "accepted verification code.*$TEST_USER"
  check "the fleet should record host-a as the last writer" [ \
    "$("$REPO/scripts/fleet-sandbox" psql "$FLEET_DIR" -Atc \
      "SELECT updated_by FROM lockstep_users WHERE name = '$TEST_USER'")" = host-a ]
  use_agent b || return 1
  ssh_login "$used"
  expect_refused
  check "host-b's agent should refuse the code" eventually 10 contains "$FLEET_DIR/host-b.log" "refused.*$TEST_USER"
}
register root fleet_code_once_across_hosts \
  "fleet: a code accepted through sshd and host-a's agent is refused through host-b's (replay across hosts)"

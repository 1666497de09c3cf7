# The shipped examples beyond sshd and sudo: lockstep's own audit finds nothing wrong with
# them, and the login and su snippets work in a real PAM stack (driven by pamtester, since
# login and su have fixed service names).

# audit_is_clean SSHD_CONFIG: `lockstep check` on pam.d-examples/ with this sshd_config reports
# no warning or error, except that the clock may be unsynchronised on this machine, the nullok
# that login and su keep on purpose (their files say why), which check warns about, and that
# the test's store lies below /tmp (which check rightly warns of; the examples are the subject).
audit_is_clean() {
  local findings
  findings=$("$CLI" check --store "$STORE" --pam-directory "$EXAMPLES" --sshd-config "$EXAMPLES/$1" --json |
    jq -r '.findings[] | select(.severity != "info" and .rule != "clock.unsynchronised") |
      select(.rule != "store.below-writable") |
      select(.rule != "pam.nullok" or (.file | test("/(login|su)$") | not)) |
      "\(.severity) \(.file):\(.line) \(.message)"')
  [[ -z $findings ]] || {
    note "findings: $findings"
    return 1
  }
}

examples_pass_the_audit() {
  enroll || return 1
  local setup
  for setup in code-only key-then-code password-then-code; do
    check "lockstep check should find nothing wrong with sshd_config-$setup and the PAM files" \
      audit_is_clean "sshd_config-$setup"
  done
  # And the audit does look at them: a broken copy is caught.
  local broken=$SCRATCH/broken
  mkdir -p "$broken"
  sed 's/^auth       required     pam_lockstep.so$/auth sufficient pam_lockstep.so nullok/' \
    "$EXAMPLES/sshd-code-only" >"$broken/sshd"
  sed 's/^AuthenticationMethods.*//' "$EXAMPLES/sshd_config-code-only" >"$broken/sshd_config"
  "$CLI" check --store "$STORE" --pam-directory "$broken" --sshd-config "$broken/sshd_config" --json \
    >"$SCRATCH/findings.json"
  check "control: the audit should flag 'sufficient' with 'nullok'" \
    contains "$SCRATCH/findings.json" '"rule" : "pam.nullok-sufficient"'
  check "control: the audit should flag a missing AuthenticationMethods" \
    contains "$SCRATCH/findings.json" '"rule" : "sshd.authmethods-missing"'
}
register root examples_pass_the_audit "lockstep check finds no warning or error in pam.d-examples/"

# pamtester_as SERVICE ANSWER...: `pamtester SERVICE TEST_USER authenticate` on a terminal.
pamtester_auth() {
  local service=$1
  shift
  answer $# "$@" /usr/bin/pamtester "$service" "$TEST_USER" authenticate
}

login_example() {
  local service=login-lockstep-e2e-$RUN_ID
  install_pam_service "$service" login && enroll || return 1
  pamtester_auth "$service" "$TEST_PASSWORD" "$(code)"
  check "password and code should authenticate" contains "$SCRATCH/transcript" "successfully authenticated"
  check "asked for the password, then the code" prompts_were Password "Verification code"
  pamtester_auth "$service" "$TEST_PASSWORD" "$(wrong_code)"
  check_not "a wrong code should not authenticate" contains "$SCRATCH/transcript" "successfully authenticated"
  unenroll || return 1
  pamtester_auth "$service" "$TEST_PASSWORD"
  check "with nullok, an unenrolled account logs in with its password" \
    contains "$SCRATCH/transcript" "successfully authenticated"
  check "and is not asked for a code" prompts_were Password
}
register root login_example "login example: password then code; unenrolled accounts keep their password (nullok)"

su_example() {
  local service=su-lockstep-e2e-$RUN_ID
  install_pam_service "$service" su && enroll || return 1
  # pamtester runs as root, as su does when root switches users: pam_rootok lets it through.
  pamtester_auth "$service"
  check "root should switch users without a prompt" contains "$SCRATCH/transcript" "successfully authenticated"
  check "and without a code" prompts_were
  expect_state lastStep null
}
register root su_example "su example: root switching users is asked nothing (pam_rootok stays first)"

# su_to_test_user ANSWER...: another account (nobody) runs `su TEST_USER -c /usr/bin/id` on a
# terminal, answering its prompts, with /etc/pam.d/su replaced by the su example only inside a
# private mount namespace: the machine's own file is never touched, even if the run is killed.
su_to_test_user() {
  pam_service_from su >"$SCRATCH/su" || return 1
  chmod 0644 "$SCRATCH/su"
  answer $# "$@" /usr/bin/unshare --mount --propagation private /bin/sh -c \
    'mount --bind "$1" /etc/pam.d/su && exec /usr/sbin/runuser -u nobody -- /bin/su "$2" -c /usr/bin/id' \
    su-e2e "$SCRATCH/su" "$TEST_USER"
}

su_target_account() {
  enroll || return 1
  local used
  used=$(code)
  su_to_test_user "$TEST_PASSWORD" "$used"
  check "the target's password and code should switch to it" contains "$SCRATCH/transcript" "^uid=[0-9]+\($TEST_USER\)"
  check "asked for the target's password, then its code" prompts_were Password "Verification code"
  su_to_test_user "$TEST_PASSWORD" "$used"
  check_not "the same code a second time should not switch" contains "$SCRATCH/transcript" "uid="
  expect_state failures 1
  su_to_test_user "$TEST_PASSWORD" "$(wrong_code)"
  check_not "a wrong code should not switch" contains "$SCRATCH/transcript" "uid="
  expect_state failures 2
  check_not "/etc/pam.d/su outside the namespace should be the machine's own" contains /etc/pam.d/su "$MODULE"
}
register root su_target_account "su example: another account switching to an enrolled one needs its password and its code"

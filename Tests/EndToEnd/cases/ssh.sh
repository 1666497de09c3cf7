# SSH logins through real sshd and ssh, with the shipped pam.d-examples and sshd_config lines.

ssh_code_only_right_code() {
  use_sshd code-only && enroll || return 1
  ssh_login "$(code)"
  expect_logged_in
  check "only the code should be asked for" prompts_were "Verification code"
  expect_state failures 0
  check "the accepted time step should be recorded" [ "$(state lastStep)" != null ]
}
register root ssh_code_only_right_code "ssh, code only: the right code logs in"

ssh_code_only_wrong_code() {
  use_sshd code-only && enroll || return 1
  ssh_login "$(wrong_code)"
  expect_refused
  expect_state failures 1
}
register root ssh_code_only_wrong_code "ssh, code only: a wrong code is refused and counted"

ssh_code_only_replayed_code() {
  use_sshd code-only && enroll || return 1
  local used
  used=$(code)
  ssh_login "$used"
  expect_logged_in
  # The same code again, at once: its time step is at the replay watermark.
  ssh_login "$used"
  expect_refused
  expect_state failures 1
}
register root ssh_code_only_replayed_code "ssh, code only: a code used once is refused the second time"

ssh_locked_out_user() {
  use_sshd code-only && enroll || return 1
  local right
  for _ in 1 2 3 4 5; do
    ssh_login "$(wrong_code)"
    expect_refused
  done
  expect_state locked true
  right=$(code)
  ssh_login "$right"
  expect_refused
  # Refused like any wrong code: PAM_MAXTRIES made sshd end keyboard-interactive at once, which
  # told whoever probed that the user is enrolled and locked out.
  check "sshd should have been told an ordinary refusal" logged "Failed keyboard-interactive/pam"
  check_not "the module should not answer PAM_MAXTRIES" log_has "Have exhausted maximum number of retries"
  note "after the lockout, the right code was refused; now: lockstep unlock"
  "$CLI" unlock "$TEST_USER" --store "$STORE" >/dev/null || fail "lockstep unlock failed"
  # The refused code was not even checked, so it was not used up.
  ssh_login "$right"
  expect_logged_in
}
register root ssh_locked_out_user "ssh, code only: after 5 wrong codes even the right one is refused until 'lockstep unlock'"

ssh_backup_code_once() {
  use_sshd code-only && enroll || return 1
  local backup
  backup=$(backup_code 0)
  ssh_login "$backup"
  expect_logged_in
  expect_state backupCodesRemaining 9
  ssh_login "$backup"
  expect_refused
  expect_state backupCodesRemaining 9
}
register root ssh_backup_code_once "ssh, code only: a backup code works once"

ssh_key_then_code() {
  use_sshd key-then-code && enroll || return 1
  ssh_login --key "$(code)"
  expect_logged_in
  check "sshd should log the key as the first of two steps" logged "Partial publickey for $TEST_USER"
  check "after the key, only the code should be asked for (no password)" prompts_were "Verification code"
}
register root ssh_key_then_code "ssh, key then code: the key and the right code log in, with no password prompt"

ssh_key_then_wrong_code() {
  use_sshd key-then-code && enroll || return 1
  ssh_login --key "$(wrong_code)"
  expect_refused
  check "sshd should have accepted the key first" logged "Partial publickey for $TEST_USER"
  expect_state failures 1
}
register root ssh_key_then_wrong_code "ssh, key then code: the key with a wrong code is refused"

ssh_code_without_key() {
  use_sshd key-then-code && enroll || return 1
  ssh_login "$(code)"
  check_not "the login should have been refused" contains "$SCRATCH/transcript" "^OK-"
  check "the client should be told only publickey is possible" contains "$SCRATCH/transcript" \
    "Permission denied \(publickey\)"
  check_not "the code should never be asked for" prompted "Verification code"
  check "sshd should log that the client gave up before authenticating" \
    logged "Connection closed by authenticating user $TEST_USER 127\.0\.0\.1 .*\[preauth\]"
  check_not "sshd should not log an accepted login" log_has "Accepted [a-z-]+(/pam)? for"
  expect_state failures 0
}
register root ssh_code_without_key "ssh, key then code: without the key, the code is never asked for"

ssh_password_then_code() {
  use_sshd password-then-code && enroll || return 1
  ssh_login "$TEST_PASSWORD" "$(code)"
  expect_logged_in
  check "the password should be asked for, then the code" prompts_were Password "Verification code"
}
register root ssh_password_then_code "ssh, password then code: both in one keyboard-interactive exchange log in"

ssh_wrong_password() {
  use_sshd password-then-code && enroll || return 1
  ssh_login "wrong-$TEST_PASSWORD" "$(code)"
  expect_refused
  check_not "no code should be asked for after a wrong password" prompted "Verification code"
  expect_state failures 0
}
register root ssh_wrong_password "ssh, password then code: a wrong password is refused before the code is asked for"

ssh_password_then_wrong_code() {
  use_sshd password-then-code && enroll || return 1
  ssh_login "$TEST_PASSWORD" "$(wrong_code)"
  expect_refused
  expect_state failures 1
}
register root ssh_password_then_wrong_code "ssh, password then code: the right password with a wrong code is refused"

ssh_unenrolled_nullok() {
  use_sshd password-then-code nullok && unenroll || return 1
  ssh_login "$TEST_PASSWORD"
  expect_logged_in
  check_not "no code should be asked for" prompted "Verification code"
}
register root ssh_unenrolled_nullok "ssh, password then code with nullok: an unenrolled user logs in with the password alone"

ssh_enrolled_nullok() {
  use_sshd password-then-code nullok && enroll || return 1
  ssh_login "$TEST_PASSWORD" "$(wrong_code)"
  expect_refused
  check "an enrolled user is still asked for the code" prompted "Verification code"
}
register root ssh_enrolled_nullok "ssh, password then code with nullok: an enrolled user still needs the right code"

ssh_unenrolled_without_nullok() {
  use_sshd password-then-code && unenroll || return 1
  ssh_login "$TEST_PASSWORD" 123456
  expect_refused
  check "the unenrolled user should be prompted like anyone else" prompted "Verification code"
}
register root ssh_unenrolled_without_nullok "ssh, password then code without nullok: an unenrolled user is refused"

ssh_code_only_unenrolled_nullok() {
  use_sshd code-only nullok && unenroll || return 1
  ssh_login
  expect_refused
  check_not "no code should be asked for" prompted "Verification code"
}
register root ssh_code_only_unenrolled_nullok \
  "ssh, code only with nullok: an unenrolled user is still refused (nothing else in the stack succeeds)"

# sudo step-up through a private PAM service made from the shipped examples.

sudo_right_code() {
  use_sudo sudo-code-only && enroll || return 1
  sudo_id -- "$(code)"
  expect_root
  check "only the code should be asked for" prompts_were "Verification code"
}
register root sudo_right_code "sudo, code only: the right code runs the command as root"

sudo_wrong_code() {
  use_sudo sudo-code-only && enroll || return 1
  sudo_id -- "$(wrong_code)"
  expect_not_root
  expect_state failures 1
}
register root sudo_wrong_code "sudo, code only: a wrong code runs nothing"

sudo_replayed_code() {
  use_sudo sudo-code-only && enroll || return 1
  local used
  used=$(code)
  sudo_id -- "$used"
  expect_root
  sudo_id -- "$used"
  expect_not_root
  expect_state failures 1
}
register root sudo_replayed_code "sudo, code only: a code used once runs nothing the second time"

sudo_code_then_password() {
  use_sudo sudo && enroll || return 1
  sudo_id -- "$(code)" "$TEST_PASSWORD"
  expect_root
  check "the code should be asked for first, then the password" prompts_were "Verification code" \
    "password for $TEST_USER"
}
register root sudo_code_then_password "sudo, code then password: both right run the command as root"

sudo_wrong_code_then_password() {
  use_sudo sudo && enroll || return 1
  sudo_id -- "$(wrong_code)" "$TEST_PASSWORD"
  expect_not_root
  check "the password should never be asked for after a wrong code" prompts_were "Verification code"
}
register root sudo_wrong_code_then_password "sudo, code then password: a wrong code ends it before the password"

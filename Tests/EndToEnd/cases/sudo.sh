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

# owner_is PATH OWNER:GROUP: the file exists with that owner and group.
owner_is() {
  local actual
  actual=$(stat -c '%U:%G' "$1" 2>/dev/null)
  [[ $actual == "$2" ]] || {
    note "$1 is owned by '$actual', expected '$2'"
    return 1
  }
}

# sudo runs the module with the caller's group: the files the store writes must still be root's.
sudo_store_files_stay_root_root() {
  use_sudo sudo-code-only && enroll || return 1
  # The state file is made afresh by the module, under sudo; the backup code rewrites the record.
  rm -f "$STORE/.$TEST_USER.state"
  sudo_id -- "$(backup_code 0)"
  expect_root
  check "the record rewritten through sudo should be root:root" owner_is "$STORE/$TEST_USER" root:root
  check "the state file created through sudo should be root:root" owner_is "$STORE/.$TEST_USER.state" root:root
  "$CLI" check --store "$STORE" --pam-directory "$SCRATCH" --sshd-config /dev/null --json >"$SCRATCH/findings.json"
  check_not "lockstep check should find no file with a foreign group" \
    contains "$SCRATCH/findings.json" '"rule" : "store.group"'
  # And check does notice one.
  chgrp "$TEST_USER" "$STORE/.$TEST_USER.state"
  "$CLI" check --store "$STORE" --pam-directory "$SCRATCH" --sshd-config /dev/null --json >"$SCRATCH/findings.json"
  check "control: lockstep check should flag a state file whose group is the user's" \
    contains "$SCRATCH/findings.json" '"rule" : "store.group"'
}
register root sudo_store_files_stay_root_root "sudo, backup code: the record and state file the module writes stay root:root"

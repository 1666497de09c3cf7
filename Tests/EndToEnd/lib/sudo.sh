# sudo with a private PAM service: a sudoers drop-in points the test user (and only it) at
# /etc/pam.d/sudo-lockstep-e2e-RUN with "Defaults:USER pam_service=...", the way the README's
# sudo walk-through tries the module on one user; /etc/pam.d/sudo is never touched.

SUDO_SERVICE=""
SUDO_LOG=""
SUDO_LOG_MARK=0

# prepare_sudo: the sudoers drop-in, checked with visudo before it is put in place.
prepare_sudo() {
  SUDO_SERVICE=sudo-lockstep-e2e-$RUN_ID
  SUDO_LOG=$SCRATCH/sudo.log
  : >"$SUDO_LOG"
  # No dot in the name: sudo skips files in sudoers.d whose names contain one.
  local dropin=/etc/sudoers.d/lockstep-e2e-$RUN_ID
  cat >"$SCRATCH/sudoers" <<SUDOERS
Defaults:$TEST_USER pam_service=$SUDO_SERVICE
# Ask every time (no 15-minute credential cache), once per command, and log to a file.
Defaults:$TEST_USER timestamp_timeout=0, passwd_tries=1, !lecture, logfile=$SUDO_LOG, loglinelen=0
$TEST_USER ALL=(root) /usr/bin/id
SUDOERS
  visudo -cqf "$SCRATCH/sudoers" || return 1
  install -m 0440 "$SCRATCH/sudoers" "$dropin.tmp" && mv "$dropin.tmp" "$dropin" || return 1
  on_exit "rm -f '$dropin'"
}

# use_sudo EXAMPLE: the private sudo service is made from pam.d-examples/EXAMPLE.
use_sudo() {
  install_pam_service "$SUDO_SERVICE" "$1"
}

# sudo_id [--stdin-closed] [NAME=VALUE...] -- ANSWER...: the test user runs `sudo /usr/bin/id`
# on a terminal, with the environment variables given (set for sudo alone), answering its
# prompts. With --stdin-closed, sudo starts with standard input closed. Returns sudo's status.
sudo_id() {
  local closed="" environment=()
  if [[ $1 == --stdin-closed ]]; then
    closed=1
    shift
  fi
  while [[ $1 != -- ]]; do
    environment+=("$1")
    shift
  done
  shift
  SUDO_LOG_MARK=$(stat -c %s "$SUDO_LOG")
  if [[ -n $closed ]]; then
    answer $# "$@" /usr/sbin/runuser -u "$TEST_USER" -- /usr/bin/env "${environment[@]}" \
      /bin/sh -c 'exec /usr/bin/sudo /usr/bin/id <&-'
  else
    answer $# "$@" /usr/sbin/runuser -u "$TEST_USER" -- /usr/bin/env "${environment[@]}" /usr/bin/sudo /usr/bin/id
  fi
}

sudo_log_has() {
  local text
  text=$(tail -c "+$((SUDO_LOG_MARK + 1))" "$SUDO_LOG")
  grep -Eq -- "$1" <<<"$text"
}

# expect_root: the command ran as root, and sudo logged it.
expect_root() {
  check "id should have run as root" contains "$SCRATCH/transcript" "^uid=0\(root\)"
  check "sudo should log the command" sudo_log_has ": $TEST_USER : TTY=.*COMMAND=/usr/bin/id"
}

# expect_not_root: the command did not run, and sudo logged a failed attempt.
expect_not_root() {
  check_not "id should not have run" contains "$SCRATCH/transcript" "uid="
  check "sudo should log a failed attempt" sudo_log_has ": $TEST_USER : 1 incorrect password attempt"
  check_not "sudo should not log a command it ran" sudo_log_has ": $TEST_USER : TTY="
}

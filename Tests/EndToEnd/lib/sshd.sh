# OpenSSH's sshd on a loopback port, started through a symlink whose name is its PAM service
# (sshd uses its program name as the service), so it reads /etc/pam.d/sshd-lockstep-e2e-RUN
# and never the system's /etc/pam.d/sshd; and the real ssh client answering its prompts.

SSHD_SERVICE=""   # the PAM service (and program) name
SSHD_PID=""
SSHD_PORT=""
SSHD_SETUP=""     # what the running daemon was started with
SSHD_LOG=""
SSHD_LOG_MARK=0   # the log's size when the current login started
CLIENT_KEY=""

# prepare_sshd: the program symlink, a host key and the client's known_hosts.
prepare_sshd() {
  SSHD_SERVICE=sshd-lockstep-e2e-$RUN_ID
  mkdir -p "$SCRATCH/sbin" /run/sshd
  # sshd re-executes itself, so it must be started by an absolute path.
  ln -s /usr/sbin/sshd "$SCRATCH/sbin/$SSHD_SERVICE"
  ssh-keygen -q -t ed25519 -N '' -C e2e-host -f "$SCRATCH/host_key" || return 1
  SSHD_LOG=$SCRATCH/sshd.log
  on_exit stop_sshd
}

# start_sshd SETUP [EXTRA_ARGUMENTS]: stops the running daemon, then starts one with
# pam.d-examples/sshd-SETUP as its PAM service and pam.d-examples/sshd_config-SETUP included
# at the top of its configuration, the way /etc/ssh/sshd_config.d/lockstep.conf is included by
# Debian's sshd_config (which follows, with the settings that the included file must win over).
start_sshd() {
  local setup=$1 extra=${2:-}
  stop_sshd
  install_pam_service "$SSHD_SERVICE" "sshd-$setup" "$extra" || return 1
  for _ in 1 2 3 4 5; do
    # A random port; if another program took it meanwhile, sshd exits and we try another.
    SSHD_PORT=$((20000 + RANDOM % 40000))
    cat >"$SCRATCH/sshd_config" <<CONFIG
ListenAddress 127.0.0.1:$SSHD_PORT
HostKey $SCRATCH/host_key
PidFile $SCRATCH/sshd.pid
LogLevel VERBOSE
PrintMotd no
PrintLastLog no
Include $EXAMPLES/sshd_config-$setup
# What Debian's /etc/ssh/sshd_config says about authentication below its Include line:
KbdInteractiveAuthentication no
UsePAM yes
CONFIG
    rm -f "$SCRATCH/sshd.pid"
    : >"$SSHD_LOG"
    "$SCRATCH/sbin/$SSHD_SERVICE" -D -f "$SCRATCH/sshd_config" -E "$SSHD_LOG" </dev/null &
    SSHD_PID=$!
    # sshd writes its pid file once it listens; it exits if it cannot.
    if eventually 30 sshd_ready_or_gone && [[ -s $SCRATCH/sshd.pid ]]; then
      echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SCRATCH/host_key.pub")" >"$SCRATCH/known_hosts"
      SSHD_SETUP="$setup $extra"
      return 0
    fi
    stop_sshd
    grep -q 'Address already in use' "$SSHD_LOG" || break
  done
  fail "sshd did not start: $(tr '\n' '|' <"$SSHD_LOG")"
  return 1
}

sshd_ready_or_gone() {
  [[ -s $SCRATCH/sshd.pid ]] || ! kill -0 "$SSHD_PID" 2>/dev/null
}

# use_sshd SETUP [EXTRA_ARGUMENTS]: makes sure a daemon with that setup runs.
use_sshd() {
  [[ -n $SSHD_PID && $SSHD_SETUP == "$1 ${2:-}" ]] && return 0
  start_sshd "$@"
}

stop_sshd() {
  [[ -n $SSHD_PID ]] || return 0
  kill "$SSHD_PID" 2>/dev/null
  wait "$SSHD_PID" 2>/dev/null
  SSHD_PID=""
  SSHD_SETUP=""
}

# make_client_key: a key pair for the test user, authorized for its logins.
make_client_key() {
  CLIENT_KEY=$SCRATCH/client_key
  ssh-keygen -q -t ed25519 -N '' -C e2e-client -f "$CLIENT_KEY" || return 1
  install -d -m 0700 -o "$TEST_USER" -g "$TEST_USER" "/home/$TEST_USER/.ssh"
  install -m 0600 -o "$TEST_USER" -g "$TEST_USER" "$CLIENT_KEY.pub" "/home/$TEST_USER/.ssh/authorized_keys"
}

# ssh_login [--key] ANSWER...: the real ssh client logs in as the test user, offering the key
# with --key (and no key otherwise), answering the prompts with ANSWER..., and runs
# `echo OK-$(id -un)`. Returns ssh's exit status; the transcript is in $SCRATCH/transcript.
ssh_login() {
  local keys=(-o PubkeyAuthentication=no)
  if [[ ${1:-} == --key ]]; then
    keys=(-o PubkeyAuthentication=yes -o IdentitiesOnly=yes -i "$CLIENT_KEY")
    shift
  fi
  SSHD_LOG_MARK=$(stat -c %s "$SSHD_LOG")
  answer $# "$@" /usr/bin/ssh -F /dev/null -p "$SSHD_PORT" \
    -o UserKnownHostsFile="$SCRATCH/known_hosts" -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
    -o IdentityAgent=none -o ControlPath=none -o NumberOfPasswordPrompts=1 -o ConnectTimeout=30 -o LogLevel=ERROR \
    -o KbdInteractiveAuthentication=yes -o PasswordAuthentication=no "${keys[@]}" \
    "$TEST_USER@127.0.0.1" 'echo OK-$(id -un)'
}

# new_log_lines: what sshd logged since the last login started.
new_log_lines() {
  tail -c "+$((SSHD_LOG_MARK + 1))" "$SSHD_LOG"
}

# logged PATTERN: sshd logged a line matching PATTERN for the last login (waiting for it a
# little: the privileged process may write the log after the client has gone).
logged() {
  eventually 10 log_has "$1" || {
    note "sshd's log for this login: $(new_log_lines | tr '\n' '|')"
    return 1
  }
}

log_has() {
  local text
  text=$(new_log_lines)
  grep -Eq -- "$1" <<<"$text"
}

# expect_logged_in: the client ran the command as the test user, and sshd logged the success.
expect_logged_in() {
  check "the login should have succeeded" contains "$SCRATCH/transcript" "^OK-$TEST_USER\$"
  check "sshd should log 'Accepted keyboard-interactive/pam for $TEST_USER'" \
    logged "Accepted keyboard-interactive/pam for $TEST_USER from 127\.0\.0\.1"
}

# expect_refused: the client got no shell, and sshd logged a failed keyboard-interactive login
# (and no accepted one).
expect_refused() {
  check_not "the login should have been refused" contains "$SCRATCH/transcript" "^OK-"
  check "sshd should log 'Failed keyboard-interactive/pam for $TEST_USER'" \
    logged "Failed keyboard-interactive/pam for $TEST_USER from 127\.0\.0\.1"
  check_not "sshd should not log an accepted login" log_has "Accepted [a-z-]+(/pam)? for"
}


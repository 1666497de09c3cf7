# Codes sent by email: a real sshd login through lockstepd serving one host's store (store =),
# which sends the code through a real sendmail program (msmtp) to an SMTP server on loopback
# (the mail sink of the module tests); the user presses Enter at the prompt, then types the
# code read from the message. The same code is refused the second time, and it is written
# neither to the agent's log nor to its store.

STAND_INS=$REPO/Tests/PamModuleTests/StandIns
AGENT=$REPO/build/lockstepd
DELIVERY_DIR=""         # the agent's configuration, keys, store, log and the mailbox
DELIVERY_SINK_PID=""
DELIVERY_AGENT_PID=""
DELIVERY_EMAIL=alice@example.com
DELIVERY_MASKED='a•••@example.com'

# start_delivery: the mail sink, msmtp's configuration, a host key, and lockstepd sending by
# email through msmtp. stop_delivery undoes it (the case calls it, and so does cleanup).
start_delivery() {
  [[ -x $AGENT ]] || { fail "$AGENT is missing; run make first"; return 1; }
  [[ -z $DELIVERY_DIR ]] && on_exit stop_delivery
  DELIVERY_DIR=$SCRATCH/delivery
  rm -rf "$DELIVERY_DIR"
  # lockstepd reads its configuration and keys only from root-only places.
  install -d -m 0700 "$DELIVERY_DIR" "$DELIVERY_DIR/store" "$DELIVERY_DIR/mail"
  # The sink prints "ready PORT" once it listens: read from a pipe, so there is nothing to poll.
  mkfifo -m 0600 "$DELIVERY_DIR/sink.ready"
  /usr/bin/python3 "$STAND_INS/mail-sink.py" "$DELIVERY_DIR/mail" \
    >"$DELIVERY_DIR/sink.ready" 2>"$DELIVERY_DIR/sink.log" </dev/null &
  DELIVERY_SINK_PID=$!
  local ready port
  read -r -t 30 ready port <"$DELIVERY_DIR/sink.ready"
  [[ $ready == ready && $port =~ ^[0-9]+$ ]] || {
    fail "the mail sink did not start: $(tr '\n' '|' <"$DELIVERY_DIR/sink.log")"
    return 1
  }
  # msmtp refuses a configuration that others can read.
  (umask 077 && printf 'account default\nhost 127.0.0.1\nport %s\nfrom lockstep@test.invalid\nauth off\ntls off\n' \
    "$port" >"$DELIVERY_DIR/msmtprc")
  (umask 077 && head -c 32 /dev/urandom >"$DELIVERY_DIR/host.key") && chmod 0400 "$DELIVERY_DIR/host.key"
  (umask 077 && cat >"$DELIVERY_DIR/lockstepd.conf") <<CONFIG
socket = $DELIVERY_DIR/agent.sock
store = $DELIVERY_DIR/store
host-key = $DELIVERY_DIR/host.key
email = sendmail
sendmail = /usr/bin/msmtp -C $DELIVERY_DIR/msmtprc -t
email-from = lockstep@test.invalid
CONFIG
  "$AGENT" --config "$DELIVERY_DIR/lockstepd.conf" </dev/null >"$DELIVERY_DIR/agent.log" 2>&1 &
  DELIVERY_AGENT_PID=$!
  # The agent makes its socket once it accepts connections; it exits if it cannot.
  if ! eventually 30 agent_ready_or_gone || [[ ! -S $DELIVERY_DIR/agent.sock ]]; then
    fail "lockstepd did not start: $(tr '\n' '|' <"$DELIVERY_DIR/agent.log")"
    return 1
  fi
}

agent_ready_or_gone() {
  [[ -S $DELIVERY_DIR/agent.sock ]] || ! kill -0 "$DELIVERY_AGENT_PID" 2>/dev/null
}

stop_delivery() {
  local pid
  for pid in "$DELIVERY_AGENT_PID" "$DELIVERY_SINK_PID"; do
    [[ -n $pid ]] || continue
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  DELIVERY_AGENT_PID=""
  DELIVERY_SINK_PID=""
}

# use_delivery_agent: sshd's PAM service (the shipped code-only example) loads the module with
# agent= pointing at the delivery agent, as use_agent does for a fleet (cases/fleet.sh).
use_delivery_agent() {
  use_sshd code-only || return 1
  sed -E "/^[[:space:]]*#/! s|([[:space:]])pam_lockstep\.so|\1$MODULE agent=$DELIVERY_DIR/agent.sock|" \
    "$EXAMPLES/sshd-code-only" >"/etc/pam.d/$SSHD_SERVICE.tmp" &&
    mv "/etc/pam.d/$SSHD_SERVICE.tmp" "/etc/pam.d/$SSHD_SERVICE" || return 1
  # shellcheck disable=SC2034 # read by use_sshd (lib/sshd.sh)
  SSHD_SETUP="delivery"
}

# sent_code N: the code in the Nth message the sink received (waiting for it a little).
sent_code() {
  /usr/bin/python3 "$STAND_INS/latest-code.py" "$DELIVERY_DIR/mail" --count "$1"
}

# delivery_status: `lockstep status --json` for the test user in the agent's store.
delivery_status() {
  "$CLI" status "$TEST_USER" --config "$DELIVERY_DIR/lockstepd.conf" --json
}

# messages_received: how many messages the sink has written.
messages_received() {
  find "$DELIVERY_DIR/mail" -maxdepth 1 -type f ! -name '.*' | wc -l
}

delivery_email_code() {
  start_delivery && delivery_email_code_logins
  local status=$?
  stop_delivery
  return $status
}

delivery_email_code_logins() {
  "$CLI" enroll "$TEST_USER" --email "$DELIVERY_EMAIL" --no-confirm \
    --config "$DELIVERY_DIR/lockstepd.conf" >"$SCRATCH/enroll.out" 2>&1 ||
    { fail "lockstep enroll --email failed: $(tr '\n' '|' <"$SCRATCH/enroll.out")"; return 1; }
  check "enroll should say codes go by email to $DELIVERY_MASKED" \
    contains "$SCRATCH/enroll.out" "codes are sent by email to $DELIVERY_MASKED"
  use_delivery_agent || return 1
  local prompt="Verification code \(press Enter to have one sent by email to $DELIVERY_MASKED\): "
  # Enter at the first prompt; the code, read from the message once it exists, at the second.
  # ssh shows the masked address as sent only in a UTF-8 locale (in C it prints \342\200\242 for •).
  LC_ALL=C.UTF-8 ssh_login "" "!/usr/bin/python3 $STAND_INS/latest-code.py $DELIVERY_DIR/mail --count 1"
  expect_logged_in
  check "the first prompt should offer to send a code to $DELIVERY_MASKED" contains "$SCRATCH/transcript" "$prompt"
  check "the client should be told where the code went and for how long" contains "$SCRATCH/transcript" \
    "Code sent by email to $DELIVERY_MASKED; it expires in 5 minutes\."
  check "the code should be asked for twice (before and after it was sent)" \
    [ "$(grep -c 'Verification code[^:]*: ' "$SCRATCH/transcript")" = 2 ]
  check "exactly one message should have been sent" [ "$(messages_received)" = 1 ]
  local sent message
  sent=$(sent_code 1) || { fail "no code in the message sent"; return 1; }
  message=$(find "$DELIVERY_DIR/mail" -maxdepth 1 -type f ! -name '.*' | head -n 1)
  check "the message should go to $DELIVERY_EMAIL" contains "$message" "^X-Sink-Rcpt-To: $DELIVERY_EMAIL"
  check "the message should come from lockstep@test.invalid" contains "$message" \
    "^X-Sink-Mail-From: lockstep@test.invalid"
  check "the agent should log that it sent a code" eventually 10 contains "$DELIVERY_DIR/agent.log" \
    "$TEST_USER.*sent|sent.*$TEST_USER"
  # The store says how it went: lockstepd with store = logs its sends but not its verdicts (a
  # fleet's agent logs those).
  delivery_status >"$SCRATCH/status.json"
  note "status after the login: $(tr -d '\n' <"$SCRATCH/status.json")"
  check "the store should count no failure" [ "$(jq -r .failures "$SCRATCH/status.json")" = 0 ]

  # The same code again, typed at the first prompt: it was used up.
  LC_ALL=C.UTF-8 ssh_login "$sent"
  expect_refused
  delivery_status >"$SCRATCH/status.json"
  note "status after the second login: $(tr -d '\n' <"$SCRATCH/status.json")"
  check "the store should count the refused code as a failure" [ "$(jq -r .failures "$SCRATCH/status.json")" = 1 ]
  check "typing a code should send no other message" [ "$(messages_received)" = 1 ]

  # The code itself is kept only by the user: not in a log, nor in any file of the store (as a
  # word: the Unix times and hex digits in these files could hold any six digits by chance).
  check_not "the agent's log should not contain the code" grep -qwF -- "$sent" "$DELIVERY_DIR/agent.log"
  check_not "sshd's log should not contain the code" grep -qwF -- "$sent" "$SSHD_LOG"
  check_not "no file of the store should contain the code" grep -rqwF -- "$sent" "$DELIVERY_DIR/store"
  note "agent's log: $(tr '\n' '|' <"$DELIVERY_DIR/agent.log" | cut -c 1-1500)"
}
register root delivery_email_code \
  "delivery: through sshd and lockstepd, Enter has a code emailed (msmtp to SMTP on loopback); it logs in once, then is refused"

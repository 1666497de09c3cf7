# Enrollment at first login through real sshd: key then code, with the module's `invitations`.
# `lockstep invite` opens the invitation; at the next login, after the key, the client is shown
# the QR code and the key URI, and the answer is the code oathtool computes from the URI as the
# client saw it. Then a plain login with a code works, the invitation is not shown again, and
# an invitation that has expired shows nothing.

# invitation_code [OFFSET]: the answer command that types the TOTP code, OFFSET seconds from
# now, of the secret in the key URI shown at this prompt.
invitation_code() {
  local offset=${1:-0}
  printf '%s' "!uri=\$(printf '%s' \"\$ANSWER_SHOWN\" | grep -o 'otpauth://[^[:space:]]*' | head -n 1) &&
    key=\$(printf '%s' \"\$uri\" | sed -n 's/.*[?&]secret=\\([A-Z2-7]*\\).*/\\1/p') && [ -n \"\$key\" ] &&
    printf '%s\\n' \"\$uri\" >'$SCRATCH/invitation.uri' &&
    oathtool --totp -b -N \"@\$((\$(date +%s) + $offset))\" \"\$key\""
}

ssh_invitation_taken_up_after_the_key() {
  use_sshd key-then-code invitations && unenroll || return 1
  "$CLI" invite "$TEST_USER" --store "$STORE" >"$SCRATCH/invite.out" 2>&1 ||
    { fail "lockstep invite failed: $(tr '\n' '|' <"$SCRATCH/invite.out")"; return 1; }
  check "list should show the invitation" contains <("$CLI" list --store "$STORE") "invited until"
  # The half blocks of the QR code come through ssh as they are only in a UTF-8 locale.
  LC_ALL=C.UTF-8 ssh_login --key "$(invitation_code)"
  expect_logged_in
  check "after the key, the first code from the app should be asked for" prompted "Verification code from your authenticator app"
  check "the client should be shown the key URI" contains "$SCRATCH/transcript" "otpauth://totp/[^ ]*$TEST_USER\?secret="
  check "the client should be shown the QR code" contains "$SCRATCH/transcript" " ▄▄▄▄▄ "
  expect_state backupCodesRemaining 10
  check "the invitation should be gone" [ "$(state invitation)" = null ]
  local key last
  key=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$SCRATCH/invitation.uri")
  last=$(state lastStep)
  # The next login: a plain code prompt, no QR code, the next time step's code.
  ssh_login --key "$(oathtool --totp -b -N "@$(((last + 1) * 30))" "$key")"
  expect_logged_in
  check "a second login should ask for a plain code" prompts_were "Verification code"
  check_not "a second login should show no key URI" contains "$SCRATCH/transcript" "otpauth://"
}
register root ssh_invitation_taken_up_after_the_key \
  "ssh, key then invitation: the URI shown is the app's, its code enrolls the user, then plain codes work"

ssh_expired_invitation_shows_nothing() {
  use_sshd key-then-code invitations && unenroll || return 1
  # Made an hour ago (the CLI's clock moved back by datefudge), for ten minutes.
  datefudge "@$(($(date +%s) - 3600))" "$CLI" invite "$TEST_USER" --store "$STORE" --expires 10m \
    >"$SCRATCH/invite.out" 2>&1 || { fail "lockstep invite failed: $(tr '\n' '|' <"$SCRATCH/invite.out")"; return 1; }
  LC_ALL=C.UTF-8 ssh_login --key "$(wrong_code)"
  expect_refused
  check_not "an expired invitation should show no key URI" contains "$SCRATCH/transcript" "otpauth://"
  check "the prompt should be the plain one" prompts_were "Verification code"
  unenroll
}
register root ssh_expired_invitation_shows_nothing "ssh, key then invitation: an expired invitation is refused and shows nothing"

# The same through a fleet (scripts/fleet-sandbox): the invitation made through host-a's agent,
# taken up by an sshd login through host-b's, then a plain login through host-a's.
fleet_invitation_taken_up_on_another_host() {
  use_fleet && unenroll || return 1
  local config=$FLEET_DIR/host-a.conf
  # An earlier fleet case may have left the user enrolled in the fleet.
  "$CLI" revoke "$TEST_USER" --config "$config" >/dev/null 2>&1
  on_exit "'$CLI' revoke '$TEST_USER' --config '$config' >/dev/null 2>&1"
  "$CLI" invite "$TEST_USER" --config "$config" >"$SCRATCH/invite.out" 2>&1 ||
    { fail "lockstep invite --config failed: $(tr '\n' '|' <"$SCRATCH/invite.out")"; return 1; }
  use_agent b key-then-code invitations || return 1
  LC_ALL=C.UTF-8 ssh_login --key "$(invitation_code)"
  expect_logged_in
  check "after the key, the first code from the app should be asked for" prompted "Verification code from your authenticator app"
  check "the client should be shown the key URI" contains "$SCRATCH/transcript" "otpauth://totp/[^ ]*$TEST_USER\?secret="
  check "host-b's agent should log the take-up" eventually 10 contains "$FLEET_DIR/host-b.log" \
    "event=invitation outcome=accepted left=10"
  check "the fleet should hold the user as enrolled, the invitation gone" [ \
    "$("$REPO/scripts/fleet-sandbox" psql "$FLEET_DIR" -Atc \
      "SELECT (SELECT count(*) FROM lockstep_users WHERE name = '$TEST_USER') || ' ' ||
        (SELECT count(*) FROM lockstep_invitations WHERE name = '$TEST_USER')")" = "1 0" ]
  local key last
  key=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$SCRATCH/invitation.uri")
  last=$("$REPO/scripts/fleet-sandbox" psql "$FLEET_DIR" -Atc "SELECT last_step FROM lockstep_users WHERE name = '$TEST_USER'")
  use_agent a key-then-code invitations || return 1
  ssh_login --key "$(oathtool --totp -b -N "@$(((last + 1) * 30))" "$key")"
  expect_logged_in
  check "a login through the other host should ask for a plain code" prompts_were "Verification code"
  check_not "a login through the other host should show no key URI" contains "$SCRATCH/transcript" "otpauth://"
}
register root fleet_invitation_taken_up_on_another_host \
  "fleet, ssh key then invitation: made through host-a's agent, taken up through host-b's, then plain codes on host-a"

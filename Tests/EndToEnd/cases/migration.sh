# Bulk migration from google-authenticator: `lockstep import google-authenticator --all` over
# real accounts whose files Debian's google-authenticator wrote, as the README describes.

MIGRATION_USERS=()

# make_ga_user NAME: an account with a home and a ~/.google_authenticator it wrote itself.
make_ga_user() {
  useradd --create-home --shell /bin/sh "$1" || return 1
  MIGRATION_USERS+=("$1")
  on_exit "userdel --force --remove '$1' 2>/dev/null"
  runuser -u "$1" -- google-authenticator -t -d -f -q -u -w 3 -e 2 -Q NONE >/dev/null
}

import_all_google_authenticator() {
  local store=$SCRATCH/migration-store first second output status secret
  first=lsga1$RUN_ID
  second=lsga2$RUN_ID
  make_ga_user "$first" && make_ga_user "$second" || {
    fail "could not make the accounts"
    return 1
  }
  install -d -m 0700 "$store"
  local home1 home2
  home1=$(getent passwd "$first" | cut -d: -f6)
  home2=$(getent passwd "$second" | cut -d: -f6)

  # A user who points their file at someone else's must not get that secret: nothing is
  # written, and the file is named.
  runuser -u "$TEST_USER" -- ln -sf "$home1/.google_authenticator" "$(getent passwd "$TEST_USER" | cut -d: -f6)/.google_authenticator"
  status=0
  output=$("$CLI" import google-authenticator --all --store "$store" 2>&1) || status=$?
  note "with a planted link (exit $status): $output"
  check "a symbolic link in a home should stop the import with status 2" [ "$status" = 2 ]
  check "the error should name the link" grep -qF "/.google_authenticator is a symbolic link" <<<"$output"
  check "nothing should be imported" [ -z "$(ls -A "$store")" ]
  rm -f "$(getent passwd "$TEST_USER" | cut -d: -f6)/.google_authenticator"

  # An account that shares the first one's home: the file is the first one's, not a problem.
  local sharer=lsga3$RUN_ID
  useradd --no-create-home --home-dir "$home1" --shell /bin/sh "$sharer" || return 1
  on_exit "userdel --force '$sharer' 2>/dev/null"

  output=$("$CLI" import google-authenticator --all --dry-run --store "$store" 2>&1) || fail "--dry-run failed: $output"
  note "dry run: $output"
  check "the dry run should name both users" grep -qE "^Would import [0-9]+ users: .*$first.*$second|^Would import [0-9]+ users: .*$second.*$first" <<<"$output"
  check "the dry run should say it wrote nothing" grep -qx "Dry run: nothing was written." <<<"$output"
  check "the dry run should write nothing" [ -z "$(ls -A "$store")" ]

  output=$("$CLI" import google-authenticator --all --store "$store" 2>&1) || fail "import --all failed: $output"
  note "import: $output"
  check "the summary should name both users" grep -qE "^Imported [0-9]+ users: .*$first" <<<"$output"
  check_not "the account sharing a home should not be imported" grep -qF "$sharer" <<<"$output"
  secret=$(head -n 1 "$home2/.google_authenticator")
  check "the second user's code should verify" quietly "$CLI" verify "$second" --store "$store" <<<"$(oathtool --totp -b "$secret")"
  check "the first user's scratch code should be a backup code" quietly "$CLI" verify "$first" --store "$store" \
    <<<"$(grep -E '^[0-9]{8}$' "$home1/.google_authenticator" | head -n 1)"

  output=$("$CLI" import google-authenticator --all --store "$store" 2>&1) || fail "a second import --all failed: $output"
  note "again: $output"
  check "a second run should skip the users already enrolled" grep -qE "^Skipped [0-9]+ users already enrolled: .*$second" <<<"$output"
}
register root import_all_google_authenticator "import google-authenticator --all: every account's file, a summary, a dry run, no planted links"

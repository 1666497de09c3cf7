/// The fleet's tables, made by the first agent that connects (`CREATE … IF NOT EXISTS`).
///
/// - `lockstep_users`: one row per enrolled user. The secret is only in `sealed`
///   (AES-256-GCM under the fleet key, with the user's name and the row's `version` as
///   associated data: see `Sealing`); the rest is what logins read and change, one column each,
///   so that one statement can decide a login.
/// - `lockstep_backup_codes`: one row per unused backup code (its PBKDF2 hash), deleted when used.
/// - `lockstep_invitations`: one row per invitation not taken up yet (`lockstep invite`): the
///   secret and the QR code sealed as `lockstep_users`' secret is, and the state a take-up
///   counts (failures, lockout). A user is enrolled when a row in `lockstep_users` has their
///   name, whatever this table holds; so agents that predate it, which never read it, see an
///   invited user as not enrolled, and enrolling the user there overrides the invitation.
/// - `lockstep_requests`: the outcome of each recent verify request by its nonce, so that a
///   request retried after a lost reply gets the recorded outcome. Rows older than a day are
///   removed.
enum FleetSchema {
  /// Bumped when the tables change in a way an older agent would misread; an agent refuses a
  /// database of a later version. A table added that older agents need not read
  /// (`lockstep_invitations`) leaves it as it is, so that a fleet can be upgraded host by host.
  static let version = 1

  static let statements = [
    """
    CREATE TABLE IF NOT EXISTS lockstep_schema (version integer NOT NULL)
    """,
    """
    INSERT INTO lockstep_schema (version) SELECT \(version) WHERE NOT EXISTS (SELECT 1 FROM lockstep_schema)
    """,
    """
    CREATE TABLE IF NOT EXISTS lockstep_users (
      name text PRIMARY KEY,
      version bigint NOT NULL,
      sealed bytea NOT NULL,
      kind text NOT NULL,
      algorithm text NOT NULL,
      digits integer NOT NULL,
      period integer NOT NULL,
      counter bigint NOT NULL,
      last_step bigint,
      time_offset bigint NOT NULL,
      failures integer NOT NULL,
      locked_until bigint NOT NULL,
      last_success bigint NOT NULL,
      enrolled bigint NOT NULL,
      backup_salt bytea NOT NULL,
      backup_iterations integer NOT NULL,
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS lockstep_backup_codes (
      name text NOT NULL REFERENCES lockstep_users (name) ON DELETE CASCADE,
      hash bytea NOT NULL,
      PRIMARY KEY (name, hash)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS lockstep_invitations (
      name text PRIMARY KEY,
      version bigint NOT NULL,
      sealed bytea NOT NULL,
      sealed_qr bytea NOT NULL,
      kind text NOT NULL,
      algorithm text NOT NULL,
      digits integer NOT NULL,
      period integer NOT NULL,
      counter bigint NOT NULL,
      last_step bigint,
      time_offset bigint NOT NULL,
      failures integer NOT NULL,
      locked_until bigint NOT NULL,
      enrolled bigint NOT NULL,
      expires bigint NOT NULL,
      issuer text NOT NULL,
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS lockstep_requests (
      nonce bytea PRIMARY KEY,
      name text NOT NULL,
      host text NOT NULL,
      reply bytea NOT NULL,
      failures integer,
      locked_until bigint,
      at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE INDEX IF NOT EXISTS lockstep_requests_at ON lockstep_requests (at)
    """,
  ]
}

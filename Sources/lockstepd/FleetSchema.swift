/// The fleet's tables, made by the first agent that connects (`CREATE … IF NOT EXISTS`).
///
/// - `lockstep_users`: one row per enrolled user. The secret is only in `sealed`
///   (AES-256-GCM under the fleet key, with the user's name and the row's `version` as
///   associated data: see `Sealing`); the rest is what logins read and change, one column each,
///   so that one statement can decide a login.
/// - `lockstep_backup_codes`: one row per unused backup code (its PBKDF2 hash), deleted when used.
/// - `lockstep_requests`: the outcome of each recent verify request by its nonce, so that a
///   request retried after a lost reply gets the recorded outcome. Rows older than a day are
///   removed.
enum FleetSchema {
  /// Bumped when the tables change; an agent refuses a database of a later version.
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

//! The team of a shared database (`campaign team`), and what a volunteer's connection
//! does instead of reading signers. The rules themselves live in the database (migration
//! 4: group roles, row-level security by campaign, SECURITY DEFINER functions); this
//! module adds and removes people and speaks to those functions.
//!
//! A volunteer has INSERT on signers and no SELECT, so their store never writes
//! `ON CONFLICT` (its arbiter needs SELECT on the key: the whole signer list) nor
//! `RETURNING`: a typed row takes its id from the sequence and a unique violation is the
//! duplicate (the server leaves the key out of the message for a user who may not read
//! it); an import drops the keys `known_keys()` says the campaign has, and tries again
//! if another volunteer adds one of them meanwhile.

use postgres::error::SqlState;
use postgres::Client;

use super::{is_code, PgStore, SCHEMA};
use crate::error::{Error, Result};
use crate::model::{NewSignature, NewTeamMember, Signature, Source, TeamKind, TeamMember};

/// Held (for one transaction) while the team changes: "teamlock".
const TEAM_LOCK: i64 = 0x7465_616d_6c6f_636b;

/// What this connection's user is in the team (read once, at open). A schema older
/// than the teams migration has no team.
pub(super) fn detect(client: &mut Client) -> Result<Option<TeamKind>> {
    match client.query_one("SELECT team_kind()", &[]) {
        Ok(row) => Ok(row
            .try_get::<_, Option<String>>(0)?
            .and_then(|k| k.parse().ok())),
        Err(e) if is_code(&e, &SqlState::UNDEFINED_FUNCTION) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `"name"`: only ever given names made of `[a-z0-9_]` (see `team_role_name()`).
fn ident(name: &str) -> Result<String> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(Error::Invalid(format!(
            "unexpected PostgreSQL role name {name:?}"
        )));
    }
    Ok(format!("\"{name}\""))
}

impl PgStore {
    /// Refuses, saying what is missing, a user who may not manage the team: it must own
    /// campaign's schema (or be a member of its owner) and be able to create users.
    fn check_team_manager(&self) -> Result<()> {
        let row = self.client().query_one(
            "SELECT pg_has_role(current_user, n.nspowner, 'MEMBER'), \
                    r.rolcreaterole OR r.rolsuper, pg_get_userbyid(n.nspowner)::text, current_user::text \
               FROM pg_namespace n, pg_roles r \
              WHERE n.nspname = $1 AND r.rolname = current_user",
            &[&SCHEMA],
        )?;
        let (owns, creates, owner, me): (bool, bool, String, String) = (
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        );
        if !owns {
            return Err(Error::Refused(format!(
                "only the owner of campaign's tables ({owner}) may manage the team, and this \
                 connection is {me}: run `campaign team` with a URL of user {owner}"
            )));
        }
        if !creates {
            return Err(Error::Refused(format!(
                "the PostgreSQL user {me} may not create users (it lacks CREATEROLE): as a \
                 superuser, run `ALTER ROLE {me} CREATEROLE`, or use a user that has it"
            )));
        }
        Ok(())
    }

    /// Adds a person: a login role (password sent as its SCRAM verifier only) in the
    /// group of their role, and its row in `team_members`. All or nothing.
    pub fn team_add(&mut self, m: &NewTeamMember<'_>) -> Result<String> {
        self.check_team_manager()?;
        let verifier = postgres_protocol::password::scram_sha_256(m.password.as_bytes());
        if verifier.contains('\'') || verifier.contains('\\') {
            return Err(Error::Invalid("unexpected password verifier".into()));
        }
        let kind = m.role.as_str();
        let ts = self.now();
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&TEAM_LOCK])?;
        tx.execute("SELECT team_setup()", &[])?;
        let taken = tx.query_opt(
            "SELECT kind, email FROM team_members WHERE lower(email) = lower($1)",
            &[&m.email],
        )?;
        if let Some(row) = taken {
            let (was, email): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            return Err(Error::Refused(format!(
                "{email} is already in the team (as {was}): to change their role or \
                 campaigns, `campaign team remove {email}` first, then add them again"
            )));
        }
        let user: String = tx
            .query_one("SELECT team_role_name($1)", &[&m.email])?
            .try_get(0)?;
        let group: String = tx
            .query_one("SELECT team_group($1)", &[&kind])?
            .try_get(0)?;
        if tx
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&user])?
            .is_some()
        {
            return Err(Error::Refused(format!(
                "the PostgreSQL user {user} exists already (left by a removal that did not \
                 finish?): as a superuser, `DROP ROLE {user}`, then add {} again",
                m.email
            )));
        }
        tx.batch_execute(&format!(
            "CREATE ROLE {} LOGIN PASSWORD '{verifier}' IN ROLE {}",
            ident(&user)?,
            ident(&group)?
        ))?;
        let campaigns: Option<Vec<i64>> = m.campaigns.map(<[i64]>::to_vec);
        tx.execute(
            "INSERT INTO team_members (role, email, kind, campaigns, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[&user, &m.email, &kind, &campaigns, &ts],
        )?;
        tx.commit()?;
        Ok(user)
    }

    /// The team, by email (read by the schema's owner: others may not read it).
    pub fn team_list(&self) -> Result<Vec<TeamMember>> {
        let rows = self.client().query(
            "SELECT m.email, m.kind, m.role, m.created_at, \
                    CASE WHEN m.campaigns IS NULL THEN NULL ELSE \
                      ARRAY(SELECT c.slug FROM campaigns c WHERE c.id = ANY (m.campaigns) ORDER BY c.slug) END \
               FROM team_members m ORDER BY lower(m.email)",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(1)?;
                Ok(TeamMember {
                    email: r.try_get(0)?,
                    role: kind.parse().map_err(Error::Invalid)?,
                    user: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    campaigns: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Removes a person: their row and their login (its rights came with the group, so
    /// nothing else holds it), then ends their open sessions where this user may.
    pub fn team_remove(&mut self, email: &str) -> Result<Option<String>> {
        self.check_team_manager()?;
        let mut client = self.client();
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&TEAM_LOCK])?;
        let Some(row) = tx.query_opt(
            "DELETE FROM team_members WHERE lower(email) = lower($1) RETURNING role",
            &[&email],
        )?
        else {
            return Ok(None);
        };
        let user: String = row.try_get(0)?;
        let oid: Option<u32> = tx
            .query_opt("SELECT oid FROM pg_roles WHERE rolname = $1", &[&user])?
            .map(|r| r.try_get(0))
            .transpose()?;
        if oid.is_some() {
            tx.batch_execute(&format!("DROP ROLE {}", ident(&user)?))
                .map_err(|e| {
                    if is_code(&e, &SqlState::DEPENDENT_OBJECTS_STILL_EXIST) {
                        Error::Refused(format!(
                            "the PostgreSQL user {user} still owns or was given something \
                             outside campaign's team (e.g. in another database); nothing was \
                             changed: as a superuser, `REASSIGN OWNED BY {user} TO ...; DROP \
                             OWNED BY {user}` in each database, then remove {email} again"
                        ))
                    } else {
                        e.into()
                    }
                })?;
        }
        tx.commit()?;
        if let Some(oid) = oid {
            // Their sessions lost every right with the group; ending them is a courtesy
            // this user may not have (it needs pg_signal_backend or membership).
            let _ = client.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usesysid = $1",
                &[&oid],
            );
        }
        Ok(Some(user))
    }

    /// A volunteer's typed row: an id from the sequence, then a plain insert; `None`
    /// when the unique key says the campaign has them.
    pub(super) fn volunteer_insert(
        &self,
        campaign_id: i64,
        s: &NewSignature,
        signed_at: &str,
    ) -> Result<Option<i64>> {
        let mut client = self.client();
        let id: i64 = client
            .query_one(
                "SELECT nextval(pg_get_serial_sequence('signatures', 'id'))",
                &[],
            )?
            .try_get(0)?;
        // The organizer's columns and values (the stable id too), after an id of its own.
        let (source, uid, signed_at) = (
            super::signatures::source_of(s),
            crate::uid::fresh(),
            signed_at.to_string(),
        );
        let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&id, &campaign_id];
        params.extend(super::signatures::typed_values(
            s, &source, &signed_at, &uid,
        ));
        let inserted = client.execute(
            &format!(
                "INSERT INTO signatures (id, campaign_id, {}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                super::signatures::TYPED_COLUMNS
            ),
            &params,
        );
        match inserted {
            Ok(_) => Ok(Some(id)),
            Err(e) if is_code(&e, &SqlState::UNIQUE_VIOLATION) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The earlier entry with `key`, as a volunteer may see it (`earlier_entry()`):
    /// where and when, never who. The signer's fields are left empty.
    pub(super) fn volunteer_earlier_entry(
        &self,
        campaign_id: i64,
        key: &str,
    ) -> Result<Option<Signature>> {
        let row = self.client().query_opt(
            "SELECT id, sheet_id, line, signed_at, source, has_email FROM earlier_entry($1, $2)",
            &[&campaign_id, &key],
        )?;
        let Some(r) = row else {
            return Ok(None);
        };
        let signed_at: String = r.try_get(3)?;
        let source: String = r.try_get(4)?;
        let has_email: bool = r.try_get(5)?;
        Ok(Some(Signature {
            id: r.try_get(0)?,
            campaign_id,
            name: format!(
                "an entry of {} (its signer is not shown to volunteers)",
                signed_at.get(..10).unwrap_or(&signed_at)
            ),
            // Only whether there is one: typed entry offers "add it (another person)".
            email: has_email.then(String::new),
            postcode: None,
            phone: None,
            phone_valid: true,
            opt_in: false,
            private: false,
            source: if source == "online" {
                Source::Online
            } else {
                Source::Paper
            },
            sheet_id: r.try_get(1)?,
            line: r.try_get(2)?,
            entered_by: None,
            signed_at,
        }))
    }

    /// A row this volunteer typed, if it is still there (`own_entry()`): its id only,
    /// the signer's fields left empty (typed entry keeps what was typed itself).
    pub(super) fn volunteer_own_entry(
        &self,
        campaign_id: i64,
        id: i64,
    ) -> Result<Option<Signature>> {
        let there: bool = self
            .client()
            .query_one("SELECT own_entry($1, $2)", &[&campaign_id, &id])?
            .try_get(0)?;
        Ok(there.then(|| Signature {
            id,
            campaign_id,
            name: String::new(),
            email: None,
            postcode: None,
            phone: None,
            phone_valid: true,
            opt_in: false,
            private: false,
            source: Source::Paper,
            sheet_id: None,
            line: None,
            entered_by: None,
            signed_at: String::new(),
        }))
    }

    /// A volunteer's correction of a row they typed (`correct_own()`); false when
    /// another signer has the new key.
    pub(super) fn volunteer_correct(&self, id: i64, s: &NewSignature) -> Result<bool> {
        Ok(self
            .client()
            .query_one(
                "SELECT correct_own($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                &[
                    &id,
                    &s.name,
                    &s.email,
                    &s.postcode,
                    &s.phone,
                    &s.phone_valid,
                    &s.opt_in,
                    &s.private,
                    &s.sheet_id,
                    &s.line,
                    &s.dedupe_key,
                ],
            )?
            .try_get(0)?)
    }

    /// The highest line of a sheet, through `last_line()`.
    pub(super) fn volunteer_last_line(&self, campaign_id: i64, sheet: Option<&str>) -> Result<i64> {
        Ok(self
            .client()
            .query_one("SELECT last_line($1, $2)", &[&campaign_id, &sheet])?
            .try_get(0)?)
    }
}

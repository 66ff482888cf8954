use clap::Args;

use crate::context::Ctx;
use crate::error::Error;
use crate::keyfile::{DataKey, KdfParams, KeyFile};
use crate::store::sqlite::cipher;
use crate::ui;

/// Encrypts an existing database.
#[derive(Debug, Args)]
pub struct EncryptArgs {}

pub fn run(ctx: &Ctx, _args: EncryptArgs) -> anyhow::Result<()> {
    let db = ctx
        .db_file()
        .ok_or_else(|| Error::Refused(super::init::encryption_is_for_files()))?
        .to_path_buf();
    let key_path = cipher::key_path(&db);
    let key_new = cipher::suffixed(&db, ".key.new");
    let copy = cipher::encrypting_path(&db);
    if !db.exists() {
        return Err(Error::Refused(format!(
            "{} does not exist; to start an encrypted one, run `campaign init --encrypt`",
            db.display()
        ))
        .into());
    }
    if key_path.exists() {
        if copy.exists() {
            // Interrupted between its renames: the key is in place, the copy was checked.
            let key = ctx.unlock()?.expect("the key file exists");
            let done = cipher::finish_encryption(&db, &key)?;
            drop(ctx.store()?);
            ui::status(
                ctx,
                format!(
                    "Finished encrypting {}: {} kept",
                    db.display(),
                    ui::plural(done.rows() as u64, "row", "rows")
                ),
            );
            return Ok(());
        }
        return Err(Error::Refused(format!(
            "{} is already encrypted (its key file is {}); to change its passphrase, run \
             `campaign passphrase`",
            db.display(),
            key_path.display()
        ))
        .into());
    }
    // Left by an encryption that stopped before its key was in place.
    for stale in [&key_new, &copy] {
        match std::fs::remove_file(stale) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    let passphrase =
        ctx.new_passphrase(&ctx.passphrase, "New passphrase for the campaign database")?;
    let key = DataKey::random().map_err(|e| Error::Refused(e.to_string()))?;
    let file = KeyFile::seal(&key, &passphrase, KdfParams::default())
        .map_err(|e| Error::Refused(e.to_string()))?;
    ctx.files()
        .allowing(&key_new)
        .write(&key_new, file.to_toml().as_bytes())?;
    let files = ctx.files().allowing(&key_path);
    let mut commit_key = || files.rename(&key_new, &key_path);
    let done = match cipher::encrypt_database(&db, &key, &mut commit_key) {
        Ok(done) => done,
        Err(e) => {
            if !key_path.exists() {
                let _ = std::fs::remove_file(&key_new);
            }
            return Err(e.into());
        }
    };
    cipher::unlock(&db, key);
    drop(ctx.store()?);
    ui::status(
        ctx,
        format!(
            "Encrypted {}: {} in {} kept (checked)",
            db.display(),
            ui::plural(done.rows() as u64, "row", "rows"),
            ui::plural(done.tables.len() as u64, "table", "tables")
        ),
    );
    super::init::keep_a_copy(ctx, &key_path);
    ui::warn(
        "the old plain file's blocks may survive on this disk (SSD, backups, Time Machine, \
         cloud sync): encryption protects what is written from now on",
    );
    Ok(())
}

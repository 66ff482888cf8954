use clap::Args;

use crate::context::Ctx;
use crate::error::Error;
use crate::keyfile::{DataKey, KdfParams, KeyFile};
use crate::store::sqlite::cipher;
use crate::ui;

/// Creates the campaigns database.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Encrypt the database with a passphrase (asked twice on a terminal; or
    /// --passphrase-fd / CAMPAIGN_PASSPHRASE_FILE). A key file is written beside it:
    /// without that file and the passphrase nobody can read the data, not even you
    #[arg(long)]
    pub encrypt: bool,
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    // A PostgreSQL database: the one command that makes campaign's schema there (any
    // command would); encryption is for a file.
    if ctx.db_file().is_none() && !args.encrypt {
        drop(ctx.store()?);
        ui::status(
            ctx,
            format!("campaign's tables are ready in {}", ctx.paths.location),
        );
        return Ok(());
    }
    let db = ctx
        .db_file()
        .ok_or_else(|| Error::Refused(encryption_is_for_files()))?
        .to_path_buf();
    let key_path = cipher::key_path(&db);
    if db.exists() {
        let how = if key_path.exists() {
            "it is encrypted"
        } else {
            "to encrypt it, run `campaign encrypt`"
        };
        return Err(Error::Refused(format!("{} already exists; {how}", db.display())).into());
    }
    if key_path.exists() {
        return Err(Error::Refused(format!(
            "{} exists without its database (an interrupted `campaign init --encrypt`?): \
             remove it and run `campaign init --encrypt` again",
            key_path.display()
        ))
        .into());
    }
    if !args.encrypt {
        drop(ctx.store()?);
        ui::status(ctx, format!("Created {}", db.display()));
        return Ok(());
    }
    let passphrase =
        ctx.new_passphrase(&ctx.passphrase, "New passphrase for the campaign database")?;
    let key = DataKey::random().map_err(|e| Error::Refused(e.to_string()))?;
    let file = KeyFile::seal(&key, &passphrase, KdfParams::default())
        .map_err(|e| Error::Refused(e.to_string()))?;
    // The key first: a database nobody could ever open must not exist.
    ctx.files()
        .allowing(&key_path)
        .write(&key_path, file.to_toml().as_bytes())?;
    cipher::unlock(&db, key);
    if let Err(e) = ctx.store() {
        cipher::lock(&db);
        let _ = std::fs::remove_file(&db);
        let _ = std::fs::remove_file(&key_path);
        return Err(e.into());
    }
    ui::status(
        ctx,
        format!("Created the encrypted database {}", db.display()),
    );
    keep_a_copy(ctx, &key_path);
    Ok(())
}

/// The advice every new key file gets.
pub fn keep_a_copy(ctx: &Ctx, key_path: &std::path::Path) {
    ui::warn(format!(
        "its key file is {}: keep a copy of it apart from this computer (a USB stick in a safe \
         place). Without the key file and the passphrase nobody can read the data, not even you",
        key_path.display()
    ));
    let _ = ctx;
}

/// Why a database on a server gets no passphrase.
pub fn encryption_is_for_files() -> String {
    "encryption at rest is for a campaign file on this computer; a PostgreSQL database is \
     protected by its server: connect with sslmode=verify-full (TLS) and ask its \
     administrator about disk encryption and backups"
        .into()
}

use std::path::PathBuf;

use clap::Args;

use crate::context::Ctx;
use crate::error::Error;
use crate::passphrase::Source;
use crate::store::sqlite::cipher;
use crate::ui;

/// Changes the passphrase of an encrypted database.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the new passphrase from this open file descriptor (e.g. `--new-passphrase-fd 4
    /// 4< file`) instead of asking twice on the terminal
    #[arg(long, value_name = "FD")]
    pub new_passphrase_fd: Option<i32>,

    /// Read the new passphrase from this file (the first line; chmod 600)
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: PassphraseArgs) -> anyhow::Result<()> {
    let db = ctx
        .db_file()
        .ok_or_else(|| Error::Refused(super::init::encryption_is_for_files()))?
        .to_path_buf();
    let key_path = cipher::key_path(&db);
    if !key_path.exists() {
        return Err(Error::Refused(format!(
            "{} is not encrypted (no key file {}); to encrypt it, run `campaign encrypt`",
            db.display(),
            key_path.display()
        ))
        .into());
    }
    let source = match (args.new_passphrase_fd, args.new_passphrase_file) {
        (Some(fd), _) => Source::Fd(fd),
        (None, Some(file)) => Source::File(file),
        (None, None) if ctx.interactive => Source::Terminal,
        (None, None) => {
            return Err(ctx
                .missing(
                    "the new passphrase",
                    "--new-passphrase-fd or --new-passphrase-file",
                )
                .into())
        }
    };
    // The current passphrase must open the database itself, not only the key file.
    drop(ctx.store()?);
    let key = ctx.unlock()?.expect("unlocked above");
    let file = ctx.read_key_file(&key_path)?;
    let new = ctx.new_passphrase(&source, "New passphrase")?;
    let rewrapped = file
        .rewrap(&key, &new)
        .map_err(|e| Error::Refused(e.to_string()))?;
    ctx.files()
        .allowing(&key_path)
        .write(&key_path, rewrapped.to_toml().as_bytes())?;
    ui::status(
        ctx,
        format!(
            "Changed the passphrase of {} (the data was not re-encrypted)",
            db.display()
        ),
    );
    ui::warn(format!(
        "copies of the old key file still open the database with the old passphrase: replace \
         your copy with the new {}",
        key_path.display()
    ));
    Ok(())
}

//! Importing a CSV of signers into a campaign, in one transaction: all rows or none.
//!
//! Three stages run at once, each on its own thread, handing batches of rows along:
//! 1. reading: the CSV parser fills a batch's records (`read::CsvInput`);
//! 2. checking: the batch's rows are decoded and checked on every core (rayon), each
//!    into a signer slot of the batch (`read::Rules::check_into`);
//! 3. storing, on the caller's thread: rejected rows go to the rejects sink, valid ones to
//!    the store in file order (`store::Import::add_batch`), and progress is reported.
//!
//! Batches go back to the reader once stored, with their buffers: after the first few,
//! reading and checking a row allocates nothing (its fields, the signer's strings, the
//! batch's vectors are all reused), and at most [`IN_FLIGHT`] batches exist, so memory
//! stays flat however long the file.
//!
//! Nothing here prints or knows about terminals: the command shows the notes of
//! [`Opened`] and renders the [`ImportReport`]; tests call [`run`] on bytes.

use std::io::Read;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use csv::{ByteRecord, StringRecord};
use encoding_rs::Encoding;
use rayon::prelude::*;
use serde::Serialize;

use crate::domain::signer::Region;
use crate::error::{Error, Result};
use crate::model::NewSignature;
use crate::store::{ImportDefaults, Store, UnknownSheet};

pub mod read;
#[cfg(test)]
mod test_data;

use read::{CsvInput, Rejection, Rules};

/// Rows per batch: enough to keep every core busy between hand-overs, few enough that
/// the batches in flight stay a few megabytes.
pub const BATCH: usize = 4096;
/// Batches that exist at once (being read, checked, stored, or waiting between).
pub const IN_FLIGHT: usize = 4;
/// Rejected rows the report names (all go to the rejects sink).
pub const SHOWN: usize = 5;

/// A CSV opened for import: its encoding, delimiter and header are known.
#[derive(Debug)]
pub struct Opened {
    input: CsvInput,
}

/// Opens a CSV of signers (see [`CsvInput::open`]): `encoding` overrides detection
/// unless a byte order mark says otherwise.
pub fn open(input: Box<dyn Read + Send>, encoding: Option<&'static Encoding>) -> Result<Opened> {
    Ok(Opened {
        input: CsvInput::open(input, encoding)?,
    })
}

impl Opened {
    /// The encoding, said for a person when it is not plain UTF-8.
    pub fn encoding_note(&self) -> Option<String> {
        self.input.encoding_note()
    }

    /// The delimiter, said for a person when it is not a comma.
    pub fn delimiter_note(&self) -> Option<&'static str> {
        self.input.delimiter_note()
    }

    /// Headers that name no column we know (ignored), safe to print.
    pub fn unknown_columns(&self) -> &[String] {
        &self.input.rules().map.unknown
    }

    /// The header row as read, every column in its place.
    pub fn headers(&self) -> &StringRecord {
        self.input.headers()
    }

    pub fn delimiter(&self) -> u8 {
        self.input.rules().delimiter
    }
}

/// What an import needs besides its input.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub campaign_id: i64,
    /// Where phones and ZIPs are read.
    pub region: Region,
    pub defaults: ImportDefaults,
}

/// Hears how far the import has read.
pub trait Progress {
    /// Bytes of the input read so far (after any transcoding), after each batch.
    fn advance(&self, bytes_read: u64);
}

/// No progress to show.
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _bytes_read: u64) {}
}

/// Where rejected rows go (the command's private rejects file).
pub trait Rejects {
    /// One rejected row as it was read: more than one call for a row when a stray quote
    /// had merged several.
    fn row(&mut self, row: u64, reason: &str, cells: &StringRecord) -> Result<()>;
    /// Called once every row is in, before the import commits: if it fails, nothing is
    /// imported.
    fn finish(&mut self) -> Result<()>;
}

/// What an import did, row by row summed up: `read = added + duplicates + rejected +
/// forgotten`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    /// Data rows read (the header is not counted).
    pub read: u64,
    pub added: u64,
    /// Rows whose signer was already in the campaign or earlier in the file.
    pub duplicates: u64,
    pub rejected: u64,
    /// Rows left out because their signer asked to be forgotten (`campaign forget`):
    /// never written to the rejects file. Not in `--json` while 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub forgotten: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Row number in the file as a spreadsheet shows it (the header is row 1).
    pub row: u64,
    /// The field and what to do, without the signer's data: safe for stderr.
    pub reason: String,
}

/// Rows that were not UTF-8 in a file that looked like plain ASCII before them, read as
/// Windows-1252 (see `input`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodedRows {
    pub count: u64,
    pub first: u64,
    pub last: u64,
}

/// What a committed import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub counts: ImportCounts,
    /// The first [`SHOWN`] rejected rows, in file order.
    pub first_rejected: Vec<Rejected>,
    pub decoded: DecodedRows,
    /// Sheet ids never printed for the campaign, with the rows added under each.
    pub unknown_sheets: Vec<UnknownSheet>,
}

/// Rows on their way through the stages, with every buffer they need.
#[derive(Default)]
struct Batch {
    /// The rows as read, in the first `len` records.
    records: Vec<ByteRecord>,
    /// Their row numbers in the file.
    rows: Vec<u64>,
    len: usize,
    /// Bytes read when the batch was full.
    position: u64,
    /// The checked signers, one slot per row (valid ones first once stored).
    signers: Vec<NewSignature>,
    outcomes: Vec<Outcome>,
}

#[derive(Default)]
struct Outcome {
    rejection: Option<Rejection>,
    decoded: bool,
}

/// Imports every row of `opened` into the campaign: valid new signers are added,
/// duplicates counted, rejected rows given to `rejects` and counted. One transaction:
/// on any error (a CSV syntax error, the rejects sink failing, a full disk) nothing is
/// added.
pub fn run(
    store: &mut dyn Store,
    opened: Opened,
    options: &ImportOptions,
    mut rejects: Option<&mut dyn Rejects>,
    progress: &dyn Progress,
) -> Result<ImportReport> {
    // Waits (and says so, through the store's notifier) while another process writes.
    let mut import = store.begin_import(options.campaign_id, options.defaults.clone())?;

    let (pool_tx, pool_rx) = mpsc::channel::<Batch>();
    for _ in 0..IN_FLIGHT {
        let _ = pool_tx.send(Batch::default());
    }
    let (read_tx, read_rx) = mpsc::sync_channel(IN_FLIGHT);
    let (checked_tx, checked_rx) = mpsc::sync_channel(IN_FLIGHT);
    let input = opened.input;
    let rules = input.rules().clone();
    let region = options.region;
    // Not scoped: on an error this thread returns at once, even while the reader waits
    // on a pipe that never ends.
    let reader = spawn("reader", move || read_batches(input, pool_rx, read_tx))?;
    let workers = checking_pool()?;
    let checker = spawn("checker", move || {
        workers.install(|| check_batches(&rules, region, read_rx, checked_tx))
    })?;

    let mut report = ImportReport::default();
    for message in checked_rx {
        let mut batch: Batch = message?;
        let mut valid = 0;
        for i in 0..batch.len {
            let row = batch.rows[i];
            let outcome = &mut batch.outcomes[i];
            if outcome.decoded {
                let d = &mut report.decoded;
                if d.count == 0 {
                    d.first = row;
                }
                d.count += 1;
                d.last = row;
            }
            match outcome.rejection.take() {
                None => {
                    batch.signers.swap(valid, i);
                    valid += 1;
                }
                Some(rejection) => {
                    let reason = rejection.problem.to_string();
                    if let Some(sink) = rejects.as_deref_mut() {
                        for cells in &rejection.original {
                            sink.row(row, &reason, cells)?;
                        }
                    }
                    if report.first_rejected.len() < SHOWN {
                        report.first_rejected.push(Rejected { row, reason });
                    }
                    report.counts.rejected += 1;
                }
            }
        }
        report.counts.read += batch.len as u64;
        import.add_batch(&batch.signers[..valid])?;
        progress.advance(batch.position);
        // The reader is gone only when it has read everything.
        let _ = pool_tx.send(batch);
    }
    // The channel closed: both stages have ended; one that panicked read or checked only
    // part of the file, which must not be committed.
    for (stage, handle) in [("reading", reader), ("checking", checker)] {
        handle.join().map_err(|_| {
            Error::Invalid(format!(
                "the import stopped unexpectedly while {stage} rows: nothing was imported"
            ))
        })?;
    }
    if let Some(sink) = rejects {
        // In place before the import commits: a rejects file that cannot be written
        // leaves nothing imported.
        sink.finish()?;
    }
    let outcome = import.commit()?;
    report.counts.added = outcome.added;
    report.counts.duplicates = outcome.duplicates;
    report.counts.forgotten = outcome.forgotten;
    report.unknown_sheets = outcome.unknown_sheets;
    Ok(report)
}

/// The threads that check rows, one a core, at a lower priority than the rest of the
/// machine: an import is a batch job, and `list`, `show` or typed entry started while it
/// runs get a core first (measured: `list` during an import on a busy machine). The
/// thread that stores rows, the import's critical path, keeps its priority.
fn checking_pool() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("import-check-{i}"))
        .start_handler(|_| lower_this_threads_priority())
        .build()
        .map_err(|e| Error::Io(std::io::Error::other(e.to_string())))
}

/// Linux keeps a nice value per thread; elsewhere this does nothing.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its arguments; `who = 0` is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 10);
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>> {
    Ok(std::thread::Builder::new()
        .name(format!("import-{name}"))
        .spawn(f)?)
}

/// Stage 1: fills empty batches from the pool with rows until the input ends or fails.
fn read_batches(mut input: CsvInput, pool: Receiver<Batch>, out: SyncSender<Result<Batch>>) {
    while let Ok(mut batch) = pool.recv() {
        batch.len = 0;
        batch.rows.clear();
        let mut done = false;
        while batch.len < BATCH {
            if batch.len == batch.records.len() {
                batch.records.push(ByteRecord::new());
            }
            match input.read(&mut batch.records[batch.len]) {
                Ok(Some(row)) => {
                    batch.rows.push(row);
                    batch.len += 1;
                }
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => {
                    let _ = out.send(Err(e));
                    return;
                }
            }
        }
        batch.position = input.position();
        if (batch.len > 0 && out.send(Ok(batch)).is_err()) || done {
            return;
        }
    }
}

/// Stage 2: checks each batch's rows on every core, each into its signer slot.
fn check_batches(
    rules: &Rules,
    region: Region,
    input: Receiver<Result<Batch>>,
    out: SyncSender<Result<Batch>>,
) {
    for message in input {
        let mut batch = match message {
            Ok(batch) => batch,
            Err(e) => {
                let _ = out.send(Err(e));
                return;
            }
        };
        let len = batch.len;
        if batch.signers.len() < len {
            batch.signers.resize_with(len, NewSignature::default);
        }
        if batch.outcomes.len() < len {
            batch.outcomes.resize_with(len, Outcome::default);
        }
        batch.records[..len]
            .par_iter_mut()
            .zip(batch.signers[..len].par_iter_mut())
            .zip(batch.outcomes[..len].par_iter_mut())
            .for_each(|((record, signer), outcome)| {
                let checked = rules.check_into(std::mem::take(record), region, signer);
                *record = checked.record.unwrap_or_default();
                *outcome = Outcome {
                    rejection: checked.result.err(),
                    decoded: checked.decoded,
                };
            });
        if out.send(Ok(batch)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, Scope, Source};
    use crate::store::SqliteStore;
    use bench_support::write_realistic_csv;

    fn csv(start: u64, count: u64) -> (Vec<u8>, bench_support::Generated) {
        let mut bytes = Vec::new();
        let generated = write_realistic_csv(&mut bytes, 2026, start, count).unwrap();
        (bytes, generated)
    }

    fn import(store: &mut dyn Store, campaign_id: i64, bytes: Vec<u8>) -> Result<ImportReport> {
        let options = ImportOptions {
            campaign_id,
            region: Region::us(),
            defaults: ImportDefaults {
                source: Source::Online,
                entered_by: None,
                signed_at: "2026-05-01T18:30:00Z".into(),
            },
        };
        let opened = open(Box::new(std::io::Cursor::new(bytes)), None)?;
        run(store, opened, &options, None, &NoProgress)
    }

    /// Through the `Store` interface, as the command runs it: the generator's counts
    /// exactly, into an empty campaign and into one holding the earlier rows, and the
    /// campaign's counts (what `list` shows) follow.
    #[test]
    fn imports_through_the_interface_give_the_generators_counts() {
        let mut store: Box<dyn Store> = Box::new(SqliteStore::open_in_memory().unwrap());
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let id = store.insert_campaign(&draft, "t", None).unwrap().id;
        let mut total = 0;
        for (start, count) in [(0, 3_000), (3_000, 9_000)] {
            let (bytes, g) = csv(start, count);
            let report = import(&mut *store, id, bytes).unwrap();
            let expected = ImportCounts {
                read: g.rows,
                added: g.valid_unique(),
                duplicates: g.duplicates,
                rejected: g.invalid,
                forgotten: 0,
            };
            assert_eq!(report.counts, expected);
            total += g.valid_unique() as i64;
            let counts = store.signature_counts(id).unwrap();
            assert_eq!(
                (counts.total, counts.online, counts.paper),
                (total, total, 0)
            );
        }
        // The same file again: every valid row is a duplicate now.
        let (bytes, g) = csv(3_000, 9_000);
        let report = import(&mut *store, id, bytes).unwrap();
        assert_eq!(report.counts.added, 0);
        assert_eq!(report.counts.duplicates, g.rows - g.invalid);
        assert_eq!(store.signature_counts(id).unwrap().total, total);
    }

    /// Rejects that cannot be written once every row is in: nothing of the file is
    /// kept, the counts neither.
    #[test]
    fn a_failure_after_the_last_row_leaves_nothing() {
        struct Full;
        impl Rejects for Full {
            fn row(&mut self, _: u64, _: &str, _: &StringRecord) -> Result<()> {
                Ok(())
            }
            fn finish(&mut self) -> Result<()> {
                Err(Error::Io(std::io::Error::other("disk full")))
            }
        }
        let mut store: Box<dyn Store> = Box::new(SqliteStore::open_in_memory().unwrap());
        let draft = CampaignDraft {
            title: "t".into(),
            scope: Some(Scope::Global),
            ..Default::default()
        };
        let id = store.insert_campaign(&draft, "t", None).unwrap().id;
        let (bytes, _) = csv(0, 3 * BATCH as u64);
        let options = ImportOptions {
            campaign_id: id,
            region: Region::us(),
            defaults: ImportDefaults {
                source: Source::Online,
                entered_by: None,
                signed_at: "2026-05-01T18:30:00Z".into(),
            },
        };
        let opened = open(Box::new(std::io::Cursor::new(bytes)), None).unwrap();
        let failed = run(&mut *store, opened, &options, Some(&mut Full), &NoProgress);
        assert!(failed.is_err());
        let mut kept = 0;
        store
            .for_each_signer(id, &mut |_| {
                kept += 1;
                Ok(())
            })
            .unwrap();
        assert_eq!((kept, store.signature_counts(id).unwrap().total), (0, 0));
        // And the store takes the next import as if nothing had happened.
        let (bytes, g) = csv(0, 1_000);
        assert_eq!(
            import(&mut *store, id, bytes).unwrap().counts.added,
            g.valid_unique()
        );
    }
}

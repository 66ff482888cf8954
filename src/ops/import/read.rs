//! Reading a CSV of signers from any `Read` (a file, standard input, bytes in a test):
//! which encoding and delimiter it uses, its header, and each row decoded and checked by
//! the signer rules. Nothing here prints or touches the database; `enter-signatures
//! --from` runs it on its own thread and the unit tests run it on bytes.
//!
//! Encodings: a byte order mark decides (UTF-8, UTF-16LE/BE); without one, UTF-16 is
//! recognized by its zero bytes; else the first megabyte is looked at: valid UTF-8 is
//! UTF-8, anything else is guessed by `chardetng` (Windows-1252 for what Excel on
//! Windows writes). Parsing works on bytes: every ASCII-compatible encoding keeps `"`,
//! `,`, `;`, tab and line breaks as they are, so each row is decoded on its own, and a
//! clean UTF-8 row costs nothing more than the UTF-8 check the CSV reader did before.
//! A row that is not UTF-8 in a file that began as UTF-8 is decoded as Windows-1252 when
//! nothing so far was anything but ASCII (an Excel file whose first accents come late),
//! and rejected when the file also has UTF-8 accents (two files pasted together: guessing
//! could mangle names, so a person looks at them).

use std::io::{self, BufReader, Cursor, Read};

use csv::{ByteRecord, StringRecord};
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

use crate::domain::email_ok;
use crate::domain::signer::{self, HeaderMap, Problem, Region};
use crate::error::{Error, Result};
use crate::model::NewSignature;

/// How much of the input is looked at to choose its encoding and delimiter.
pub const HEAD: usize = 1 << 20;

/// Buffer sizes of the reading path (the CSV reader's and the one below it).
const BUFFER: usize = 1 << 20;

/// Why the input is read in the encoding it is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Valid UTF-8 (or plain ASCII) as far as the first megabyte shows.
    Utf8,
    /// A byte order mark at the start.
    Bom,
    /// UTF-16 without a byte order mark: every other byte is zero.
    Zeros,
    /// Not UTF-8: guessed from the bytes.
    Guessed,
    /// UTF-8 with some rows that are not (two files pasted together?): those rows are
    /// rejected, shown in the rejects file as the guess reads them.
    Mixed,
    /// As `--encoding` said.
    Given,
}

/// What to do with a row whose bytes are not UTF-8 in a file read as UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NotUtf8 {
    /// Decode it as this, and count it (the file looked like plain ASCII so far).
    Decode(&'static Encoding),
    /// Decode it as this quietly: the file is in this encoding (a guess already told).
    Quiet(&'static Encoding),
    /// Reject it; the rejects file shows it decoded as this (`None`: with U+FFFD).
    Reject(Option<&'static Encoding>),
}

/// How each row's bytes become text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decode {
    /// UTF-8 first (the hot path: no copy), then as `NotUtf8` says.
    Utf8(NotUtf8),
    /// Every row in this ASCII-compatible encoding (`--encoding`).
    Always(&'static Encoding),
}

/// The encoding chosen for an input, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub encoding: &'static Encoding,
    pub basis: Basis,
    /// Bytes of byte order mark to skip.
    bom: usize,
    /// The stream must be transcoded to UTF-8 before parsing (UTF-16, ISO-2022-JP).
    transcode: bool,
    decode: Decode,
}

/// Chooses the encoding of an input from its first bytes (`head`, all of it when
/// `complete`). A byte order mark wins over `given`.
pub fn sniff_encoding(head: &[u8], complete: bool, given: Option<&'static Encoding>) -> Sniffed {
    let sniffed = |encoding: &'static Encoding, basis: Basis, bom: usize| {
        let transcode = !encoding.is_ascii_compatible();
        let decode = match basis {
            Basis::Given if encoding != UTF_8 && !transcode => Decode::Always(encoding),
            Basis::Given | Basis::Bom | Basis::Zeros => Decode::Utf8(NotUtf8::Reject(None)),
            Basis::Guessed => Decode::Utf8(NotUtf8::Quiet(encoding)),
            Basis::Mixed => Decode::Utf8(NotUtf8::Reject(Some(encoding))),
            Basis::Utf8 if head.is_ascii() => Decode::Utf8(NotUtf8::Decode(WINDOWS_1252)),
            Basis::Utf8 => Decode::Utf8(NotUtf8::Reject(Some(WINDOWS_1252))),
        };
        Sniffed {
            encoding,
            basis,
            bom,
            transcode,
            decode,
        }
    };
    if let Some((encoding, bom)) = Encoding::for_bom(head) {
        return sniffed(encoding, Basis::Bom, bom);
    }
    if let Some(encoding) = given {
        return sniffed(encoding, Basis::Given, 0);
    }
    if let Some(encoding) = utf16_by_zeros(head) {
        return sniffed(encoding, Basis::Zeros, 0);
    }
    let valid = match std::str::from_utf8(head) {
        Ok(_) => true,
        // Cut in the middle of a character at the end of the head: still UTF-8.
        Err(e) => !complete && e.error_len().is_none(),
    };
    if valid {
        return sniffed(UTF_8, Basis::Utf8, 0);
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(head, complete);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    // UTF-8 accents next to bytes that are not UTF-8: no one encoding reads both.
    let utf8_accents = head.utf8_chunks().any(|chunk| !chunk.valid().is_ascii());
    if utf8_accents {
        let mut mixed = sniffed(guess, Basis::Mixed, 0);
        mixed.encoding = UTF_8;
        mixed.transcode = false;
        return mixed;
    }
    sniffed(guess, Basis::Guessed, 0)
}

/// Files people pick by mistake, told by their first bytes.
fn not_csv(head: &[u8]) -> Option<&'static str> {
    match head {
        [b'P', b'K', 3, 4, ..] => {
            Some("a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?)")
        }
        [0xd0, 0xcf, 0x11, 0xe0, ..] => Some("an old Excel .xls workbook"),
        [b'%', b'P', b'D', b'F', ..] => Some("a PDF document"),
        _ => None,
    }
}

/// UTF-16 without a byte order mark, from the zero bytes that its ASCII characters
/// have on one side (a text file never holds zero bytes otherwise).
fn utf16_by_zeros(head: &[u8]) -> Option<&'static Encoding> {
    let sample = &head[..head.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|&&b| b == 0)
        .count();
    // Most characters ASCII (zero high byte), and the other side never zero.
    match (even * 2 > pairs, odd * 2 > pairs) {
        (false, true) if even == 0 => Some(UTF_16LE),
        (true, false) if odd == 0 => Some(UTF_16BE),
        _ => None,
    }
}

/// The delimiter of a CSV from its header line: the one of `,` `;` tab that occurs
/// most outside quotes (a comma when none does, or on a tie with it).
pub fn sniff_delimiter(head: &[u8]) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in head {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    [b',', b';', b'\t'][best]
}

/// Reads up to `limit` bytes (less only at the end of the input).
fn read_head(input: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(limit.min(1 << 16));
    input.take(limit as u64).read_to_end(&mut head)?;
    Ok(head)
}

type Stream = Box<dyn Read + Send>;

/// A CSV of signers being read: its header mapped, its rows one by one.
pub struct CsvInput {
    reader: csv::Reader<BufReader<QuoteWatch<Stream>>>,
    rules: Rules,
    headers: StringRecord,
    sniffed: Sniffed,
    row: u64,
}

impl std::fmt::Debug for CsvInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvInput")
            .field("sniffed", &self.sniffed)
            .field("row", &self.row)
            .finish_non_exhaustive()
    }
}

impl CsvInput {
    /// Opens a CSV: chooses its encoding (`given`, from `--encoding`, unless a byte
    /// order mark says otherwise) and delimiter, and reads and maps its header.
    pub fn open(mut input: Stream, given: Option<&'static Encoding>) -> Result<CsvInput> {
        let head = read_head(&mut input, HEAD)?;
        if let Some(what) = not_csv(&head) {
            return Err(Error::Invalid(format!(
                "this is {what}, not a CSV file: open it and save it as \"CSV UTF-8\" (in Excel: \
                 File > Save As), then import that file"
            )));
        }
        let sniffed = sniff_encoding(&head, head.len() < HEAD, given);
        let mut rest = Cursor::new(head);
        rest.set_position(sniffed.bom as u64);
        let mut stream: Stream = Box::new(rest.chain(input));
        if sniffed.transcode {
            stream = Box::new(
                encoding_rs_io::DecodeReaderBytesBuilder::new()
                    .encoding(Some(sniffed.encoding))
                    .build(stream),
            );
        }
        // The header line as the parser will see it (after any transcoding).
        let mut first = read_head(&mut stream, 1 << 16)?;
        if first.len() == 1 << 16 && !first.contains(&b'\n') && !first.contains(&b'\r') {
            // `--from /dev/zero`, a binary file: never a header row, however long it is read.
            return Err(Error::Invalid(
                "its first 64 KB hold no line break, so it has no header row: is it a CSV file?"
                    .into(),
            ));
        }
        // `sep=;` before the header: Excel's own hint, written by tools that export for it.
        let delimiter = match first.as_slice() {
            [b's' | b'S', b'e' | b'E', b'p' | b'P', b'=', d, rest @ ..]
                if matches!(d, b',' | b';' | b'\t' | b'|')
                    && matches!(rest.first(), None | Some(b'\r' | b'\n')) =>
            {
                let d = *d;
                let newline = if rest.starts_with(b"\r\n") {
                    2
                } else {
                    usize::from(!rest.is_empty())
                };
                first.drain(..5 + newline);
                d
            }
            _ => sniff_delimiter(&first),
        };
        first.shrink_to_fit();
        let stream: Stream = Box::new(Cursor::new(first).chain(stream));
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(BUFFER)
            .from_reader(BufReader::with_capacity(
                BUFFER,
                QuoteWatch::new(stream, delimiter),
            ));
        let header = reader.byte_headers().map_err(csv_error)?.clone();
        let mut rules = Rules {
            map: HeaderMap::default(),
            delimiter,
            decode: sniffed.decode,
        };
        let headers = match rules.decode(header) {
            Ok((headers, _)) => headers,
            Err(_) => {
                return Err(Error::Invalid(
                    "the header row is not UTF-8 text: save the file as CSV UTF-8, or pass \
                     --encoding with the file's encoding (e.g. windows-1252)"
                        .into(),
                ))
            }
        };
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(Error::Invalid(
                "the file is empty or its first row is blank: the first row must name the columns \
                 (name, email, zip, ...)"
                    .into(),
            ));
        }
        rules.map = HeaderMap::new(headers.iter()).map_err(|p| Error::Invalid(p.message))?;
        Ok(CsvInput {
            reader,
            rules,
            headers,
            sniffed,
            row: 1,
        })
    }

    /// The header row as read (decoded), every column in its place.
    pub fn headers(&self) -> &StringRecord {
        &self.headers
    }

    /// What checking a row needs: give it to the threads that check rows.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn sniffed(&self) -> Sniffed {
        self.sniffed
    }

    /// The encoding, said for a person when it is not plain UTF-8
    /// (`Windows-1252 (not UTF-8)`).
    pub fn encoding_note(&self) -> Option<String> {
        let s = self.sniffed;
        let name = match s.encoding.name() {
            "windows-1252" => "Windows-1252",
            other => other,
        };
        match s.basis {
            Basis::Utf8 | Basis::Mixed => None,
            Basis::Bom if s.encoding == UTF_8 => None,
            Basis::Bom => Some(format!("{name} (it starts with a byte order mark)")),
            Basis::Zeros => Some(format!(
                "{name} (no byte order mark, but its zero bytes say so)"
            )),
            Basis::Guessed => Some(format!(
                "{name} (not UTF-8; if names look wrong, pass --encoding with the file's encoding)"
            )),
            Basis::Given => Some(format!("{name} (as --encoding says)")),
        }
    }

    /// The delimiter, said for a person when it is not a comma.
    pub fn delimiter_note(&self) -> Option<&'static str> {
        match self.rules.delimiter {
            b';' => Some("semicolons"),
            b'\t' => Some("tabs"),
            _ => None,
        }
    }

    /// Reads the next row into `record`; its row number as a spreadsheet shows it (the
    /// header is row 1), or `None` at the end.
    pub fn read(&mut self, record: &mut ByteRecord) -> Result<Option<u64>> {
        match self.reader.read_byte_record(record) {
            Ok(true) => {
                self.row += 1;
                Ok(Some(self.row))
            }
            Ok(false) => {
                // The csv crate ends an unclosed quote at the end of the file, swallowing
                // every row after it into one field: say so instead of rejecting a mangled
                // row for a missing email.
                if self.reader.get_ref().get_ref().unterminated() {
                    return Err(Error::Invalid(format!(
                        "CSV syntax: row {} opens a quoted field (\") that is never closed, so the \
                         rest of the file would be read as one cell; close the quote (a quote \
                         inside a quoted cell is written twice: \"\") and import again",
                        self.row
                    )));
                }
                Ok(None)
            }
            Err(e) => Err(Error::Invalid(format!(
                "cannot read row {} of the CSV: {}",
                self.row + 1,
                csv_error(e)
            ))),
        }
    }

    /// Bytes read so far (of the input as parsed), for a progress bar.
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// Every row, read and checked in file order: the import does the same in batches
    /// on two threads.
    pub fn checked_rows(mut self, region: Region) -> impl Iterator<Item = Result<(u64, Checked)>> {
        let mut record = ByteRecord::new();
        std::iter::from_fn(move || match self.read(&mut record) {
            Ok(Some(row)) => Some(Ok((row, self.rules.check(record.clone(), region)))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        })
        .scan(false, |failed, item| {
            // One error ends the rows.
            if *failed {
                return None;
            }
            *failed = item.is_err();
            Some(item)
        })
    }
}

fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::Io(e),
        other => Error::Invalid(format!("{other:?}")),
    }
}

/// A row that cannot be imported: why (safe for stderr: no signer data), and the row as
/// it was read, to write to the rejects file (more than one row when a stray quote had
/// merged several).
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub problem: Problem,
    pub original: Vec<StringRecord>,
}

/// A row checked: the signer to store, or why not.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    pub result: std::result::Result<NewSignature, Rejection>,
    /// The row was not UTF-8 and was decoded as Windows-1252, in a file that looked like
    /// plain ASCII until then: the caller says which rows.
    pub decoded: bool,
}

/// What checking a row needs: the header map, the delimiter and how bytes become text.
/// Shared by the threads that check rows.
#[derive(Debug, Clone)]
pub struct Rules {
    pub map: HeaderMap,
    pub delimiter: u8,
    decode: Decode,
}

/// A row checked into a signer the caller reuses (see [`Rules::check_into`]).
#[derive(Debug)]
pub struct CheckedInto {
    /// `Ok`: the signer is in the caller's `NewSignature`.
    pub result: std::result::Result<(), Rejection>,
    /// As in [`Checked`].
    pub decoded: bool,
    /// The row's buffers, to read another row into (not when the rejection kept them).
    pub record: Option<ByteRecord>,
}

impl Rules {
    /// Decodes, checks for a stray quote, and applies the signer rules.
    pub fn check(&self, bytes: ByteRecord, region: Region) -> Checked {
        let mut signature = NewSignature::default();
        let checked = self.check_into(bytes, region, &mut signature);
        Checked {
            result: checked.result.map(|()| signature),
            decoded: checked.decoded,
        }
    }

    /// [`Rules::check`], writing the signer into `out` and giving the row's buffers back:
    /// an import reuses both for the next rows instead of allocating them again.
    pub fn check_into(
        &self,
        bytes: ByteRecord,
        region: Region,
        out: &mut NewSignature,
    ) -> CheckedInto {
        let (record, decoded) = match self.decode(bytes) {
            Ok(r) => r,
            Err(rejection) => {
                return CheckedInto {
                    result: Err(rejection),
                    decoded: false,
                    record: None,
                }
            }
        };
        if let Some((field, problem)) = self.stray_quote(&record) {
            let original = self.split_back(&record, field);
            return CheckedInto {
                result: Err(Rejection { problem, original }),
                decoded,
                record: Some(record.into_byte_record()),
            };
        }
        match signer::validate_into(&self.map.raw(&record), region, out) {
            Ok(()) => CheckedInto {
                result: Ok(()),
                decoded,
                record: Some(record.into_byte_record()),
            },
            Err(problem) => CheckedInto {
                result: Err(Rejection {
                    problem,
                    original: vec![record],
                }),
                decoded,
                record: None,
            },
        }
    }

    /// A row as text; `true` when it was decoded as Windows-1252 (see [`Checked`]).
    fn decode(&self, bytes: ByteRecord) -> std::result::Result<(StringRecord, bool), Rejection> {
        let (bytes, otherwise) = match self.decode {
            Decode::Always(encoding) => return Ok((decode_as(encoding, &bytes), false)),
            Decode::Utf8(otherwise) => match StringRecord::from_byte_record(bytes) {
                Ok(record) => return Ok((record, false)),
                Err(e) => (e.into_byte_record(), otherwise),
            },
        };
        match otherwise {
            NotUtf8::Decode(encoding) => Ok((decode_as(encoding, &bytes), true)),
            NotUtf8::Quiet(encoding) => Ok((decode_as(encoding, &bytes), false)),
            NotUtf8::Reject(shown) => {
                let (message, original) = match shown {
                    Some(encoding) => (
                        format!(
                            "is not UTF-8 like the rest of the file (two files pasted together?): \
                             the rejects file shows it read as {}; check its names there and \
                             import it again",
                            encoding.name()
                        ),
                        decode_as(encoding, &bytes),
                    ),
                    None => (
                        "is not UTF-8 text: save the file as CSV UTF-8, or pass --encoding with \
                         the file's encoding (e.g. windows-1252)"
                            .to_string(),
                        decode_as(UTF_8, &bytes),
                    ),
                };
                Err(Rejection {
                    problem: Problem {
                        field: "row",
                        message,
                        value: None,
                    },
                    original: vec![original],
                })
            }
        }
    }

    /// A quoted cell that spans lines and holds what look like rows of this file: a
    /// quote left open by mistake (`"Ana Reyes,ana@example.org,94612`) that the next
    /// quote closes, lines later, merging signers into one cell. A multi-line address or
    /// a name broken over two lines does not look like rows and is kept.
    ///
    /// Returns the cell's index and the problem, naming the lines where it opens and
    /// closes. Costs one byte search on a row without line breaks.
    fn stray_quote(&self, record: &StringRecord) -> Option<(usize, Problem)> {
        let text = record.as_slice();
        if !text.contains('\n') && !text.contains('\r') {
            return None;
        }
        // The csv crate counts LF line breaks; a file saved with CR alone (old Excel for
        // Mac) has none, and its rows are its lines.
        let mut line = match record.position() {
            Some(p) if p.line() == 1 && p.record() > 0 => p.record() + 1,
            Some(p) => p.line(),
            None => 0,
        };
        for (i, cell) in record.iter().enumerate() {
            if !cell.contains('\n') && !cell.contains('\r') {
                continue;
            }
            let lines = lines_of(cell);
            let breaks = lines.len() as u64 - 1;
            if lines.iter().any(|l| self.row_shaped(l)) {
                let closes = line + breaks;
                let rows = breaks + 1;
                return Some((
                    i,
                    Problem {
                        field: "quotes",
                        message: format!(
                            "a quote (\") opens a cell on line {line} of the file that only closes \
                             on line {closes}, so {rows} lines that look like rows were read as one \
                             (a stray quote?): remove it or close it where the cell ends; the \
                             rejects file has them split back into rows"
                        ),
                        value: None,
                    },
                ));
            }
            line += breaks;
        }
        None
    }

    /// A line inside a cell that looks like a row of this file: as many delimiters as a
    /// full row has, or a delimiter next to an email address.
    fn row_shaped(&self, line: &str) -> bool {
        let d = self.delimiter as char;
        let delimiters = line.matches(d).count();
        delimiters >= self.map.columns.saturating_sub(1).max(1)
            || (delimiters >= 1
                && line.contains('@')
                && line
                    .split(|c: char| c == d || c.is_whitespace() || c == '"')
                    .any(email_ok))
    }

    /// The rows a stray quote in cell `field` merged, split back at its line breaks:
    /// the cells before it start the first row, the cells after it end the last.
    fn split_back(&self, record: &StringRecord, field: usize) -> Vec<StringRecord> {
        let parse = |line: &str| -> Vec<String> {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(self.delimiter)
                .from_reader(line.as_bytes());
            match reader.records().next() {
                Some(Ok(r)) => r.iter().map(str::to_string).collect(),
                _ => vec![line.to_string()],
            }
        };
        let lines = lines_of(&record[field]);
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                let mut cells: Vec<String> = Vec::new();
                if i == 0 {
                    cells.extend(record.iter().take(field).map(str::to_string));
                }
                cells.extend(parse(line));
                if i == last {
                    cells.extend(record.iter().skip(field + 1).map(str::to_string));
                }
                StringRecord::from(cells)
            })
            .collect()
    }
}

/// The lines of a cell, split at CRLF, LF or CR.
fn lines_of(cell: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = cell;
    while let Some(at) = rest.find(['\r', '\n']) {
        lines.push(&rest[..at]);
        let width = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + width..];
    }
    lines.push(rest);
    lines
}

/// Decodes every cell of `bytes` as `encoding` (malformed bytes become U+FFFD).
fn decode_as(encoding: &'static Encoding, bytes: &ByteRecord) -> StringRecord {
    let mut record = StringRecord::with_capacity(bytes.as_slice().len() * 2, bytes.len());
    for cell in bytes {
        let (text, _) = encoding.decode_without_bom_handling(cell);
        record.push_field(&text);
    }
    record.set_position(bytes.position().cloned());
    record
}

/// Follows RFC 4180 quoting over the bytes the CSV reader reads, to tell at the end of
/// the file whether a quoted field was left open (the csv crate accepts that silently).
/// Only quote bytes are looked at, so it costs a byte scan.
pub(crate) struct QuoteWatch<R> {
    inner: R,
    delimiter: u8,
    quoted: bool,
    /// Inside a quoted field, the last byte read was a quote: closing, or half of `""`.
    pending_quote: bool,
    /// The byte before the next one read (`\n` at the start: a field starts there).
    prev: u8,
}

impl<R> QuoteWatch<R> {
    pub(crate) fn new(inner: R, delimiter: u8) -> Self {
        QuoteWatch {
            inner,
            delimiter,
            quoted: false,
            pending_quote: false,
            prev: b'\n',
        }
    }

    pub(crate) fn unterminated(&self) -> bool {
        self.quoted && !self.pending_quote
    }

    fn scan(&mut self, buf: &[u8]) {
        let mut i = 0;
        while i < buf.len() {
            if self.pending_quote {
                self.pending_quote = false;
                if buf[i] == b'"' {
                    i += 1;
                    continue;
                }
                self.quoted = false;
            }
            let Some(j) = buf[i..].iter().position(|&b| b == b'"').map(|j| i + j) else {
                break;
            };
            if self.quoted {
                match buf.get(j + 1) {
                    Some(b'"') => i = j + 2,
                    Some(_) => {
                        self.quoted = false;
                        i = j + 1;
                    }
                    None => {
                        self.pending_quote = true;
                        i = j + 1;
                    }
                }
            } else {
                let before = if j > 0 { buf[j - 1] } else { self.prev };
                // A quote opens a field only at its start; elsewhere it is text.
                self.quoted = before == self.delimiter || matches!(before, b'\n' | b'\r');
                i = j + 1;
            }
        }
        if let Some(&last) = buf.last() {
            self.prev = last;
        }
    }
}

impl<R: Read> Read for QuoteWatch<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::text;

    fn open(bytes: &[u8]) -> Result<CsvInput> {
        CsvInput::open(Box::new(Cursor::new(bytes.to_vec())), None)
    }

    /// Every row of `bytes`: the accepted names, and the rejected rows' problems.
    fn read_all(bytes: &[u8]) -> (Vec<String>, Vec<(u64, Rejection)>) {
        let mut names = Vec::new();
        let mut rejected = Vec::new();
        for item in open(bytes).unwrap().checked_rows(Region::us()) {
            let (row, checked) = item.unwrap();
            match checked.result {
                Ok(s) => names.push(s.name),
                Err(r) => rejected.push((row, r)),
            }
        }
        (names, rejected)
    }

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xff, 0xfe];
        for unit in text.encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn encodings_are_told_by_their_bytes() {
        let sniff = |bytes: &[u8]| sniff_encoding(bytes, true, None);
        assert_eq!(sniff(b"name\nAna\n").basis, Basis::Utf8);
        assert_eq!(sniff("name\nJosé\n".as_bytes()).encoding, UTF_8);
        let bom = sniff("\u{feff}name\nJosé\n".as_bytes());
        assert_eq!((bom.encoding, bom.basis, bom.bom), (UTF_8, Basis::Bom, 3));
        let le = sniff(&utf16le_with_bom("name\nJosé\n"));
        assert_eq!(
            (le.encoding, le.basis, le.transcode),
            (UTF_16LE, Basis::Bom, true)
        );
        let be: Vec<u8> = "name,email\nJosé\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(sniff(&be).encoding, UTF_16BE);
        assert_eq!(sniff(&be).basis, Basis::Zeros);
        let latin = sniff(b"name,email\nJos\xe9 Garc\xeda,j@example.org\n");
        assert_eq!(
            (latin.encoding, latin.basis),
            (WINDOWS_1252, Basis::Guessed)
        );
        // Cut inside a character at the end of the first megabyte: still UTF-8.
        let cut = "name\nJosé".as_bytes();
        assert_eq!(
            sniff_encoding(&cut[..cut.len() - 1], false, None).basis,
            Basis::Utf8
        );
        assert_eq!(
            sniff_encoding(&cut[..cut.len() - 1], true, None).basis,
            Basis::Guessed
        );
        // A given encoding, unless a byte order mark says otherwise.
        let given = sniff_encoding(b"name\nJos\xe9\n", true, Some(WINDOWS_1252));
        assert_eq!(given.decode, Decode::Always(WINDOWS_1252));
        let bom_wins = sniff_encoding("\u{feff}name\n".as_bytes(), true, Some(WINDOWS_1252));
        assert_eq!(bom_wins.encoding, UTF_8);
    }

    #[test]
    fn delimiters_are_told_by_the_header_line() {
        assert_eq!(sniff_delimiter(b"name,email,zip\n"), b',');
        assert_eq!(sniff_delimiter(b"Nombre;Correo;CP\r\n"), b';');
        assert_eq!(sniff_delimiter(b"name\temail\tzip\n"), b'\t');
        assert_eq!(sniff_delimiter(b"\"name;x\",email\n"), b',');
        assert_eq!(sniff_delimiter(b"name\nA;B;C;D\n"), b',');
        assert_eq!(sniff_delimiter(b""), b',');
    }

    #[test]
    fn excel_files_in_windows_1252_and_utf_16_import_every_name_exactly() {
        let latin = b"Nombre;Correo;CP\r\nJos\xe9 Garc\xeda;jose@example.org;94612\r\nMar\xeda L\xf3pez;maria@example.org;94601\r\nAna Reyes;ana@example.org;94606\r\n";
        let input = open(latin).unwrap();
        assert_eq!(
            input.encoding_note().unwrap().split(' ').next(),
            Some("Windows-1252")
        );
        assert_eq!(input.delimiter_note(), Some("semicolons"));
        let (names, rejected) = read_all(latin);
        assert_eq!(names, ["José García", "María López", "Ana Reyes"]);
        assert!(rejected.is_empty());

        let text = "name\temail\tzip\nJosé García\tjose@example.org\t94612\nNguyễn Thị Minh Khai\tk@example.org\t94601\n";
        let (names, _) = read_all(&utf16le_with_bom(text));
        assert_eq!(names, ["José García", "Nguyễn Thị Minh Khai"]);
    }

    #[test]
    fn late_non_utf8_rows_are_decoded_after_ascii_and_rejected_after_utf8() {
        // Plain ASCII past the first megabyte, then an accent in Windows-1252.
        let mut ascii_first = b"name,email\n".to_vec();
        let mut rows = 1;
        while ascii_first.len() <= HEAD {
            ascii_first.extend(format!("Ana {rows},a{rows}@example.org\n").as_bytes());
            rows += 1;
        }
        ascii_first.extend(b"Jos\xe9,jose@example.org\n");
        let mut input = open(&ascii_first).unwrap();
        assert_eq!(input.encoding_note(), None);
        let mut record = ByteRecord::new();
        let mut last = (0, ByteRecord::new());
        while let Some(row) = input.read(&mut record).unwrap() {
            last = (row, record.clone());
        }
        assert_eq!(last.0, rows + 1);
        let checked = input.rules().check(last.1, Region::us());
        assert!(checked.decoded);
        assert_eq!(checked.result.unwrap().name, "José");

        let mixed = b"name,email\nMar\xc3\xada,m@example.org\nJos\xe9,jose@example.org\n";
        let (names, rejected) = read_all(mixed);
        assert_eq!(names, ["María"]);
        assert_eq!(rejected[0].0, 3);
        assert!(rejected[0]
            .1
            .problem
            .message
            .contains("not UTF-8 like the rest of the file"));
        // The rejects file shows the row as Windows-1252 would read it, to check.
        assert_eq!(&rejected[0].1.original[0][0], "José");
    }

    #[test]
    fn a_stray_quote_that_merges_rows_is_flagged_and_split_back() {
        let file = "name,email,zip\n\
                    \"Ana Reyes,ana@example.org,94612\n\
                    Bo Chen,bo@example.org,94601\n\
                    Maria Lopez\",maria@example.org,94610\n\
                    Li Na,li@example.org,94602\n";
        let (names, rejected) = read_all(file.as_bytes());
        assert_eq!(names, ["Li Na"]);
        let (row, r) = &rejected[0];
        assert_eq!(*row, 2);
        assert_eq!(r.problem.field, "quotes");
        assert!(r.problem.message.contains("line 2") && r.problem.message.contains("line 4"));
        assert!(!r.problem.message.contains("Ana"), "{}", r.problem);
        let rows: Vec<Vec<&str>> = r.original.iter().map(|r| r.iter().collect()).collect();
        assert_eq!(
            rows,
            [
                ["Ana Reyes", "ana@example.org", "94612"],
                ["Bo Chen", "bo@example.org", "94601"],
                ["Maria Lopez", "maria@example.org", "94610"],
            ]
        );
        // Lines are counted in the file, past earlier multi-line cells.
        let later = "name,email,zip,address\n\
                     Ana,a@example.org,94612,\"1 Main St\nOakland, CA\"\n\
                     Bo,b@example.org,\"94601\nCy,c@example.org,94602\",x\n";
        let (names, rejected) = read_all(later.as_bytes());
        assert_eq!(names, ["Ana"]);
        assert!(rejected[0]
            .1
            .problem
            .message
            .contains("line 4 of the file that only closes on line 5"));
    }

    #[test]
    fn old_mac_line_breaks_and_excel_sep_lines_are_read() {
        let cr = "name,email,zip\r\"Ana,a@example.org,94612\rBo\",b@example.org,94601\rCy,c@example.org,94602\r";
        let (names, rejected) = read_all(cr.as_bytes());
        assert_eq!(names, ["Cy"]);
        assert!(rejected[0]
            .1
            .problem
            .message
            .contains("on line 2 of the file that only closes on line 3"));
        assert_eq!(rejected[0].1.original.len(), 2);
        for sep in ["sep=;\r\n", "sep=;\n", "SEP=;\r"] {
            let file = format!("{sep}Nombre;Correo\r\nAna;a@example.org\r\n");
            let input = open(file.as_bytes()).unwrap();
            assert_eq!(input.rules().delimiter, b';', "{sep:?}");
            assert_eq!(&input.headers()[0], "Nombre", "{sep:?}");
        }
    }

    #[test]
    fn multi_line_names_and_addresses_are_kept() {
        let file = "name,email,zip,address\n\
                    \"Jean-Baptiste\nWideline\",w@example.org,94612,\"1 Main St\nApt 4, Oakland, CA\"\n\
                    \"García, María\",m@example.org,94601,\n";
        let (names, rejected) = read_all(file.as_bytes());
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(names, ["Jean-Baptiste Wideline", "García, María"]);
    }

    #[test]
    fn an_unclosed_quote_is_an_error_naming_its_row() {
        let file = b"name,email\nAna,a@example.org\n\"Bo,b@example.org\nCy,c@example.org\n";
        let rows: Vec<_> = open(file).unwrap().checked_rows(Region::us()).collect();
        // Ana, the row that swallowed the rest, then the error that ends the import.
        assert_eq!(rows.len(), 3);
        let e = rows[2].as_ref().unwrap_err().to_string();
        assert!(e.contains("CSV syntax: row 3"), "{e}");
    }

    #[test]
    fn an_empty_nameless_or_binary_file_is_refused() {
        for bytes in [
            &b""[..],
            b"\n\n",
            b"\xef\xbb\xbf",
            b"email,zip\na@b.org,1\n",
        ] {
            assert!(open(bytes).is_err(), "{bytes:?}");
        }
        let xlsx = open(b"PK\x03\x04\x14\x00\x06\x00").unwrap_err().to_string();
        assert!(xlsx.contains("Excel .xlsx"), "{xlsx}");
        let zeros = open(&vec![0u8; 1 << 17]).unwrap_err().to_string();
        assert!(zeros.contains("no line break"), "{zeros}");
    }

    fn unterminated(text: &str, chunk: usize) -> bool {
        let mut watch = QuoteWatch::new(text.as_bytes(), b',');
        let mut buf = vec![0; chunk];
        while watch.read(&mut buf).unwrap() > 0 {}
        watch.unterminated()
    }

    #[test]
    fn an_open_quote_is_seen_at_the_end_of_the_file() {
        let closed = "name,email\n\"García, María\",m@x.org\n\"Ana \"\"A\"\"\",a@x.org\nO\"Brien,o@x.org\n\"multi\nline\",b@x.org\r\n\"\"";
        let open = "name,email\n\"García, María,m@x.org\nAna,a@x.org\n";
        // Every chunk size: a quote pair may straddle two reads.
        for chunk in 1..8 {
            assert!(!unterminated(closed, chunk), "{chunk}");
            assert!(unterminated(open, chunk), "{chunk}");
            assert!(unterminated("name\n\"Ana \"\"", chunk), "{chunk}");
        }
        let mut semicolons = QuoteWatch::new(&b"a;b\nx;\"y\n"[..], b';');
        std::io::copy(&mut semicolons, &mut std::io::sink()).unwrap();
        assert!(semicolons.unterminated());
    }

    mod fuzz {
        use super::*;
        use crate::model::{CampaignDraft, Scope, Source};
        use crate::store::SqliteStore as Store;
        use proptest::prelude::*;

        /// Pieces CSV files are made of, the awkward ones included.
        const PIECES: &[&[u8]] = &[
            b"\"",
            b"\"\"",
            b",",
            b";",
            b"\t",
            b"\n",
            b"\r\n",
            b"\r",
            b"Ana",
            b"Jos\xc3\xa9",
            b"Jos\xe9",
            b"ana@example.org",
            b"bo@example.org",
            b"94612",
            b"2139",
            b" ",
            b"\xef\xbb\xbf",
            b"\x1b[31m",
            b"\xe2\x80\xae",
            b"\x00",
            b"\xc2\x85",
            b"=cmd|x",
            b"'=",
            b"@",
            b"\xff",
            b"\xe6\x9d\x8e\xe5\xa8\x9c",
            b"yes",
            b"OAK-7",
            b"x",
        ];

        const HEADERS: &[&[u8]] = &[
            b"name,email,zip\n",
            b"Nombre;Correo;CP\r\n",
            b"first_name\tlast_name\temail\tphone\n",
            b"\xef\xbb\xbfname,email,zip,sheet,line,notes\n",
            b"",
        ];

        fn csv_shaped() -> impl Strategy<Value = Vec<u8>> {
            (
                0..HEADERS.len(),
                proptest::collection::vec(0..PIECES.len(), 0..80),
                0..3u8,
            )
                .prop_map(|(header, pieces, wrap)| {
                    let mut bytes = HEADERS[header].to_vec();
                    for i in pieces {
                        bytes.extend_from_slice(PIECES[i]);
                    }
                    match (wrap, String::from_utf8(bytes.clone())) {
                        // Some files as UTF-16LE with a byte order mark.
                        (1, Ok(text)) => utf16le_with_bom(&text),
                        _ => bytes,
                    }
                })
        }

        fn raw_bytes() -> impl Strategy<Value = Vec<u8>> {
            (
                any::<bool>(),
                proptest::collection::vec(any::<u8>(), 0..300),
            )
                .prop_map(|(header, tail)| {
                    let mut bytes = if header {
                        b"name,email,zip\n".to_vec()
                    } else {
                        Vec::new()
                    };
                    bytes.extend(tail);
                    bytes
                })
        }

        /// Reads and imports `bytes` into a fresh in-memory campaign; checks what must
        /// hold whatever the bytes.
        fn holds(bytes: &[u8]) -> std::result::Result<(), TestCaseError> {
            let Ok(input) = open(bytes) else {
                return Ok(());
            };
            let mut store = Store::open_in_memory().unwrap();
            let draft = CampaignDraft {
                title: "t".into(),
                scope: Some(Scope::Global),
                ..Default::default()
            };
            let id = store.insert_campaign(&draft, "fuzz", None).unwrap().id;
            let mut rows = 0u64;
            let mut rejected = 0u64;
            let mut failed = false;
            for item in input.checked_rows(Region::us()) {
                let Ok((row, checked)) = item else {
                    failed = true;
                    break;
                };
                rows += 1;
                prop_assert_eq!(row, rows + 1);
                match &checked.result {
                    Ok(s) => {
                        for field in [
                            Some(&s.name),
                            s.email.as_ref(),
                            s.postcode.as_ref(),
                            s.phone.as_ref(),
                            s.sheet_id.as_ref(),
                        ]
                        .into_iter()
                        .flatten()
                        {
                            prop_assert!(!text::has_unsafe(field), "{:?}", field);
                            prop_assert!(!field.contains(['\n', '\r', '\t']), "{:?}", field);
                        }
                        prop_assert!(!s.name.is_empty());
                        prop_assert!(s.name.chars().count() <= signer::NAME_MAX);
                    }
                    Err(r) => {
                        rejected += 1;
                        prop_assert!(!r.original.is_empty());
                        prop_assert!(!r.problem.message.is_empty());
                    }
                }
            }
            // The import of the same bytes: the same rows, counts that add up, and
            // nothing at all when the file has an error.
            let options = crate::ops::import::ImportOptions {
                campaign_id: id,
                region: Region::us(),
                defaults: crate::store::ImportDefaults {
                    source: Source::Online,
                    entered_by: None,
                    signed_at: "2026-05-01T18:30:00Z".into(),
                },
            };
            let opened =
                crate::ops::import::open(Box::new(Cursor::new(bytes.to_vec())), None).unwrap();
            let report = crate::ops::import::run(
                &mut store,
                opened,
                &options,
                None,
                &crate::ops::import::NoProgress,
            );
            let total = store.signature_counts(id).unwrap().total as u64;
            match report {
                Ok(report) => {
                    prop_assert!(!failed);
                    let c = report.counts;
                    prop_assert_eq!((c.read, c.rejected), (rows, rejected));
                    prop_assert_eq!(c.read, c.added + c.duplicates + c.rejected);
                    prop_assert_eq!(c.added, total);
                }
                Err(_) => {
                    prop_assert!(failed);
                    prop_assert_eq!(total, 0);
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig {
                cases: 1000,
                failure_persistence: None,
                ..ProptestConfig::default()
            })]

            #[test]
            fn any_bytes_never_panic_and_counts_add_up(bytes in raw_bytes()) {
                holds(&bytes)?;
            }

            #[test]
            fn csv_shaped_text_never_panics_and_stores_only_clean_text(bytes in csv_shaped()) {
                holds(&bytes)?;
            }
        }
    }
}

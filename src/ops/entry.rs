//! Typed entry of paper signatures as a state machine, with no terminal: the session says
//! what to ask ([`Session::prompt`]), is fed the answer ([`Session::answer`]) and returns
//! what to show ([`Event`]s). The command only loops: ask on the terminal, feed,
//! show. Unit tests drive it with scripted answers against an in-memory store.
//!
//! Made to fly through a stack of sheets: one key of navigation per field. The line
//! number advances by itself and is shown in the name prompt (`#7` or `7` there goes on
//! at line 7 past blank lines, a sheet id switches sheets); yes/no
//! questions take one key; `<` steps back one field, and from a row's first field to the
//! previous row, keeping what was typed (the row being typed comes back after the
//! correction). At the end of a printed sheet the next sheet id is asked.
//!
//! Every accepted row is saved at once. A store call that finds the database busy for
//! longer than the store waits leaves the session where it was (the row typed so far
//! is kept) and returns [`Event::Busy`]: the command calls [`Session::resume`] to try
//! again, so a volunteer never loses a row to an import running elsewhere.

use std::fmt;

use serde::Serialize;

use crate::domain::signer::{self, RawSigner, Region};
use crate::error::{Error, Result};
use crate::model::{Campaign, Signature, Source};
use crate::store::Store;

mod prompt;

pub use prompt::{Answer, Prompt, PromptKind};

/// What a typing session did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntrySummary {
    pub added: u64,
    pub skipped: u64,
    pub corrected: u64,
    pub total: i64,
    pub goal: Option<i64>,
}

/// Something to show the volunteer, in order. `Display` gives the line as shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A line of guidance (a problem with an answer, where we are, ...).
    Say(String),
    /// A row was saved: its id, and the campaign's count after it ("12 of 500").
    Saved { id: i64, total: String },
    /// A row of this session was corrected.
    Corrected { id: i64 },
    /// The signer is already in the campaign: the earlier entry.
    Duplicate { earlier: Box<Signature> },
    /// The database stayed busy longer than the store waits: nothing is lost, and
    /// [`Session::resume`] tries again.
    Busy { note: &'static str },
    /// The session ended.
    Ended(EntrySummary),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Say(text) => f.write_str(text),
            Event::Saved { total, .. } => write!(f, "  saved ✓ ({total} total)"),
            Event::Corrected { .. } => f.write_str("  corrected ✓"),
            Event::Duplicate { earlier } => write!(f, "  already signed: {}", describe(earlier)),
            Event::Busy { note } => write!(
                f,
                "  the database is still busy (another campaign process is writing to it): {note}; trying again"
            ),
            Event::Ended(s) => write!(
                f,
                "added {}, skipped {}, corrected {}; the campaign now has {} signatures",
                s.added,
                s.skipped,
                s.corrected,
                goal_text(s.total, s.goal)
            ),
        }
    }
}

/// Said when a save has waited as long as the store waits.
const SAVING: &str = "your row is kept and will be saved as soon as that process is done";
/// Said when a lookup has.
const LOOKING: &str = "nothing you typed is lost";

/// A row as typed: the defaults when it is reopened with `<`.
#[derive(Debug, Clone, Default, PartialEq)]
struct Typed {
    line: String,
    name: String,
    email: String,
    postcode: String,
    phone: String,
    opt_in: bool,
    private: bool,
}

/// The row being typed.
#[derive(Debug, Clone)]
struct Row {
    t: Typed,
    /// As it was when the row opened: a correction that changes nothing saves nothing.
    before: Typed,
    /// When correcting: the row's place among the accepted rows, and its id.
    correcting: Option<(usize, i64)>,
    /// The sheet id the row goes on ("" for none), as it was when the row opened.
    sheet: String,
}

/// Where a duplicate was found: by the email (after the email), or by name and postcode
/// (after the postcode, whether or not either row has an email).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DupAt {
    Email,
    Person,
}

/// Waiting for an answer.
#[derive(Debug, Clone)]
enum Ask {
    /// The sheet id; `row` is the row whose name prompt named a sheet (None at the
    /// start and at the end of a sheet).
    Sheet {
        row: Option<Row>,
    },
    /// The line number: asked only when correcting a row (new rows number themselves).
    Line(Row),
    Name(Row),
    Email(Row),
    /// A duplicate found; `true` when the row can be added all the same (another
    /// person of the same name and postcode: one of the two rows has an email).
    Duplicate(Row, DupAt, bool),
    Postcode(Row),
    /// Keep an unusual US ZIP, as typed?
    KeepZip(Row, String),
    Phone(Row),
    OptIn(Row),
    Private(Row),
}

impl Ask {
    fn row(&self) -> Option<&Row> {
        match self {
            Ask::Sheet { row } => row.as_ref(),
            Ask::Line(r)
            | Ask::Name(r)
            | Ask::Email(r)
            | Ask::Duplicate(r, ..)
            | Ask::Postcode(r)
            | Ask::KeepZip(r, _)
            | Ask::Phone(r)
            | Ask::OptIn(r)
            | Ask::Private(r) => Some(r),
        }
    }
}

/// Work with the store before the next question. On a busy database it stays pending.
#[derive(Debug, Clone)]
enum Work {
    /// Count the campaign, greet, find the `--sheet`.
    Start,
    StartSheet(String),
    /// Look up the sheet id typed (at the start, at the end of a sheet, or at a row's
    /// name prompt).
    CheckSheet {
        typed: String,
        row: Option<Row>,
    },
    /// The next line of the new sheet, then the row typed at a name prompt continues.
    LineAfterSheet(Row),
    /// The next row: the one put aside for a correction, or a fresh one at the next
    /// line of the sheet (or the next sheet id, when the sheet is full).
    NewRow,
    DupCheck(Row, DupAt),
    Save(Row),
    Finish,
}

#[derive(Debug, Clone)]
enum State {
    Work(Work),
    Ask(Ask),
    Ended,
}

/// How a row ended.
enum Step {
    Row,
    End,
    Skip,
}

/// The keys of the duplicate question.
const SKIP_OR_CORRECT: &str = "sc";
const SKIP_CORRECT_OR_ADD: &str = "sca";

/// One typing session on one campaign.
pub struct Session {
    campaign: Campaign,
    region: Region,
    source: Source,
    entered_by: Option<String>,
    /// The sheet rows go on, and its printed line count.
    sheet: Option<String>,
    sheet_lines: Option<i64>,
    /// `--sheet`, looked up once the session has greeted.
    start_sheet: Option<String>,
    /// The lowest line the next row of this sheet may take: lines saved, skipped or
    /// left blank in this session are consumed.
    next_line: i64,
    /// Accepted rows of this session (id, as typed), in entry order. A correction edits
    /// its row in place: a row never leaves this list, so `<` can always reach it.
    accepted: Vec<(i64, Typed)>,
    /// The new row that was being typed when `<` went back to correct an earlier one:
    /// it comes back, as typed, when the correction is done.
    put_aside: Option<Row>,
    people: People,
    last_postcode: String,
    /// The campaign's signatures: counted once at the start, then kept up to date here
    /// (a COUNT at every prompt is slow in a large campaign).
    total: i64,
    summary: EntrySummary,
    state: State,
}

impl Session {
    /// A session typing rows for `campaign` with `source` (paper, usually), starting on
    /// the sheet `sheet` when given. Nothing is asked before [`Session::resume`].
    pub fn new(
        campaign: Campaign,
        region: Region,
        source: Source,
        entered_by: Option<String>,
        sheet: Option<String>,
    ) -> Session {
        Session {
            campaign,
            // A person copying a form is asked about an odd ZIP; nothing is padded.
            region: region.typed(),
            source,
            entered_by,
            sheet: None,
            sheet_lines: None,
            start_sheet: sheet,
            next_line: 1,
            accepted: Vec::new(),
            put_aside: None,
            people: People::default(),
            last_postcode: String::new(),
            total: 0,
            summary: EntrySummary::default(),
            state: State::Work(Work::Start),
        }
    }

    /// What to ask now; `None` when the session has ended or waits for the store
    /// (after [`Event::Busy`]: call [`Session::resume`]).
    pub fn prompt(&self) -> Option<Prompt> {
        let State::Ask(ask) = &self.state else {
            return None;
        };
        let t = |text: &str, default: &str| Prompt::text(text, default);
        Some(match ask {
            Ask::Sheet { .. } => t("Sheet id (from the sheet's footer)", ""),
            Ask::Line(r) => t("  Line", &r.t.line),
            Ask::Name(r) if r.correcting.is_none() => t(
                &format!(
                    "[{} · line {} · {} entered · {}] Name",
                    if r.sheet.is_empty() {
                        "no sheet"
                    } else {
                        &r.sheet
                    },
                    r.t.line,
                    self.summary.added,
                    self.goal_text(self.total)
                ),
                &r.t.name,
            ),
            Ask::Name(r) => t("  Name", &r.t.name),
            Ask::Email(r) => t("  Email", &r.t.email),
            Ask::Duplicate(_, _, false) => {
                Prompt::choice("  [s]kip this row or [c]orrect it?", SKIP_OR_CORRECT, 's')
            }
            Ask::Duplicate(_, _, true) => Prompt::choice(
                "  [s]kip this row, [c]orrect it, or [a]dd it (another person)?",
                SKIP_CORRECT_OR_ADD,
                's',
            ),
            Ask::Postcode(r) => t("  ZIP/postcode", &r.t.postcode),
            Ask::KeepZip(_, typed) => Prompt::yes_no(
                &format!("  {typed} is not a 5 or 9 digit ZIP; keep it as typed?"),
                false,
            ),
            Ask::Phone(r) => t("  Phone", &r.t.phone),
            Ask::OptIn(r) => Prompt::yes_no("  Join the mailing list?", r.t.opt_in),
            Ask::Private(r) => Prompt::yes_no("  Count me, but don't show my name?", r.t.private),
        })
    }

    /// Whether the session is over.
    pub fn ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// What the session did so far.
    pub fn summary(&self) -> &EntrySummary {
        &self.summary
    }

    /// Does the store work due before the next question: the start, or a call that
    /// found the database busy.
    pub fn resume(&mut self, store: &mut dyn Store) -> Result<Vec<Event>> {
        let mut events = Vec::new();
        while let State::Work(work) = &self.state {
            let work = work.clone();
            match self.work(store, work, &mut events) {
                Ok(next) => self.state = next,
                // The state stays as it was: the same work is tried again on resume.
                Err(Error::Busy { .. }) => {
                    let note = match &self.state {
                        State::Work(Work::Save(_)) => SAVING,
                        _ => LOOKING,
                    };
                    events.push(Event::Busy { note });
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(events)
    }

    /// Feeds the answer to the current question (see [`Session::prompt`]), then does
    /// the store work it leads to.
    pub fn answer(&mut self, store: &mut dyn Store, answer: Answer) -> Result<Vec<Event>> {
        let ask = match std::mem::replace(&mut self.state, State::Ended) {
            State::Ask(ask) => ask,
            // Not waiting for an answer (busy, or ended): nothing to feed.
            other => {
                self.state = other;
                return self.resume(store);
            }
        };
        let mut events = Vec::new();
        self.state = self.answered(ask, answer, &mut events);
        events.extend(self.resume(store)?);
        Ok(events)
    }

    fn goal_text(&self, total: i64) -> String {
        goal_text(total, self.campaign.goal)
    }

    fn work(
        &mut self,
        store: &mut dyn Store,
        work: Work,
        events: &mut Vec<Event>,
    ) -> Result<State> {
        let id = self.campaign.id;
        Ok(match work {
            Work::Start => {
                self.total = store.signature_counts(id)?.total;
                // Read once while the volunteer reads the greeting: every same-person
                // check after it only reads what is new.
                self.people.catch_up(store, id)?;
                events.push(Event::Say(format!(
                    "Entering signatures for \"{}\" ({} so far).\n  \
                     `<` goes back a field (from a name, to the previous row) · at a name: \
                     `#7` jumps to line 7, a sheet id switches sheets · `.` or Ctrl-D finishes",
                    self.campaign.title,
                    self.goal_text(self.total)
                )));
                match self.start_sheet.take() {
                    Some(sheet) => State::Work(Work::StartSheet(sheet)),
                    None => State::Ask(Ask::Sheet { row: None }),
                }
            }
            Work::StartSheet(sheet) => {
                let sheet = signer::sheet_id(&sheet).unwrap_or_default();
                match store.find_sheet(id, &sheet)? {
                    Some(s) => {
                        self.use_sheet(Some(s.sheet_id), Some(s.lines));
                        State::Work(Work::NewRow)
                    }
                    None => {
                        events.push(Event::Say(format!(
                            "  sheet {sheet} was never printed for this campaign"
                        )));
                        State::Ask(Ask::Sheet { row: None })
                    }
                }
            }
            Work::CheckSheet { typed, row } => match signer::sheet_id(&typed) {
                None => {
                    // Hand-made sheets: rows without a sheet id, if none were ever printed.
                    let printed = store.sheets(id)?;
                    match printed.first() {
                        None => {
                            events.push(Event::Say(
                                "  no printed sheets for this campaign: rows are saved without a sheet id"
                                    .into(),
                            ));
                            self.use_sheet(None, None);
                            self.sheet_chosen(row)
                        }
                        Some(example) => {
                            events.push(Event::Say(format!(
                                "  type the sheet id printed in the sheet's footer, e.g. {} (`.` to finish)",
                                example.sheet_id
                            )));
                            State::Ask(Ask::Sheet { row })
                        }
                    }
                }
                Some(answer) => match store.find_sheet(id, &answer)? {
                    Some(sheet) => {
                        self.use_sheet(Some(sheet.sheet_id), Some(sheet.lines));
                        self.sheet_chosen(row)
                    }
                    None => {
                        events.push(Event::Say(format!(
                            "  sheet {answer} was never printed for this campaign: check the footer and type it again"
                        )));
                        match row {
                            // Typed at a name prompt: back to that name.
                            Some(row) => State::Ask(Ask::Name(row)),
                            None => State::Ask(Ask::Sheet { row }),
                        }
                    }
                },
            },
            Work::LineAfterSheet(mut row) => {
                let line = self.free_line(store)?;
                row.t.line = line.to_string();
                row.sheet = self.sheet.clone().unwrap_or_default();
                State::Ask(Ask::Name(row))
            }
            Work::NewRow => {
                if let Some(row) = self.put_aside.take() {
                    return Ok(State::Ask(Ask::Name(row)));
                }
                let line = self.free_line(store)?;
                if let (Some(sheet), Some(lines)) = (&self.sheet, self.sheet_lines) {
                    if line > lines {
                        events.push(Event::Say(format!(
                            "  sheet {sheet} is done ({lines} lines): type the next sheet's id (`.` finishes)"
                        )));
                        return Ok(State::Ask(Ask::Sheet { row: None }));
                    }
                }
                let t = Typed {
                    line: line.to_string(),
                    postcode: self.last_postcode.clone(),
                    ..Default::default()
                };
                State::Ask(Ask::Name(self.open_row(t, None)))
            }
            Work::DupCheck(row, at) => {
                let earlier = match at {
                    DupAt::Email => {
                        let email = signer::check_email(&row.t.email).ok().flatten();
                        match email {
                            Some(email) => store.find_signature_by_key(
                                id,
                                &signer::dedupe_key(&row.t.name, Some(&email), None),
                            )?,
                            None => None,
                        }
                    }
                    DupAt::Person => self.same_person(store, &row)?,
                };
                match earlier {
                    Some(earlier) if Some(earlier.id) != row.correcting.map(|(_, id)| id) => {
                        // Two rows without an email share a key: only one can be kept.
                        let can_add = at == DupAt::Person
                            && (earlier.email.is_some() || !row.t.email.trim().is_empty());
                        events.push(Event::Duplicate {
                            earlier: Box::new(earlier),
                        });
                        State::Ask(Ask::Duplicate(row, at, can_add))
                    }
                    _ => State::Ask(match at {
                        DupAt::Email => Ask::Postcode(row),
                        DupAt::Person => Ask::Phone(row),
                    }),
                }
            }
            Work::Save(row) => {
                let correcting = row.correcting;
                let step = self.save(store, row, events)?;
                self.row_done(step, correcting, events)
            }
            Work::Finish => {
                self.summary.total = store.signature_counts(id)?.total;
                self.summary.goal = self.campaign.goal;
                events.push(Event::Ended(self.summary.clone()));
                State::Ended
            }
        })
    }

    /// An earlier signer with this row's name and postcode, whatever either email:
    /// one without an email by its key; one with an email through [`People`].
    fn same_person(&mut self, store: &mut dyn Store, row: &Row) -> Result<Option<Signature>> {
        let Ok(Some(postcode)) = signer::check_postcode(&row.t.postcode, self.region) else {
            return Ok(None);
        };
        let Ok(name) = signer::check_name(&row.t.name) else {
            return Ok(None);
        };
        let Some(key) = signer::person_key(&name, Some(&postcode)) else {
            return Ok(None);
        };
        let own = row.correcting.map(|(_, id)| id);
        if let Some(s) = store.find_signature_by_key(self.campaign.id, &key)? {
            if Some(s.id) != own {
                return Ok(Some(s));
            }
        }
        self.people.catch_up(store, self.campaign.id)?;
        for id in self.people.ids(&key) {
            if Some(id) == own {
                continue;
            }
            // Confirmed on the row as it is now (edited or removed meanwhile: not a match).
            if let Some(s) = store.signature(self.campaign.id, id)? {
                if signer::person_key(&s.name, s.postcode.as_deref()).as_deref() == Some(&key) {
                    return Ok(Some(s));
                }
            }
        }
        Ok(None)
    }

    /// Rows go on `sheet` now (printed with `lines` lines), numbered from its next line.
    fn use_sheet(&mut self, sheet: Option<String>, lines: Option<i64>) {
        if sheet != self.sheet {
            self.next_line = 1;
        }
        self.sheet = sheet;
        self.sheet_lines = lines;
    }

    /// After a sheet id was accepted: the start goes on with a fresh row; a row whose
    /// name prompt named the sheet goes on at the new sheet's next line.
    fn sheet_chosen(&self, row: Option<Row>) -> State {
        State::Work(match row {
            None => Work::NewRow,
            Some(row) => Work::LineAfterSheet(row),
        })
    }

    fn open_row(&self, t: Typed, correcting: Option<(usize, i64)>) -> Row {
        Row {
            before: t.clone(),
            t,
            correcting,
            sheet: self.sheet.clone().unwrap_or_default(),
        }
    }

    /// The next free line of the current sheet: after every line entered on it (by
    /// anyone) and every line this session consumed.
    fn free_line(&self, store: &mut dyn Store) -> Result<i64> {
        let entered = store.last_line(self.campaign.id, self.sheet.as_deref())?;
        Ok((entered + 1).max(self.next_line))
    }

    /// Line `line` of the current sheet is used (saved, skipped or blank).
    fn consume(&mut self, line: &str) {
        if let Ok(n) = line.parse::<i64>() {
            self.next_line = self.next_line.max(n + 1);
        }
    }

    /// Where an answer leads (store work comes after, in [`Session::resume`]).
    fn answered(&mut self, ask: Ask, answer: Answer, events: &mut Vec<Event>) -> State {
        let say = |events: &mut Vec<Event>, text: String| events.push(Event::Say(text));
        let text = match answer {
            Answer::Text(text) => text,
            Answer::End => {
                let unsaved = ask.row().filter(|r| r.correcting.is_none());
                for r in unsaved.into_iter().chain(self.put_aside.as_ref()) {
                    if !r.t.name.trim().is_empty() {
                        say(
                            events,
                            format!("  the row of {} was not saved", r.t.name.trim()),
                        );
                    }
                }
                return self.row_done(Step::End, ask.row().and_then(|r| r.correcting), events);
            }
            Answer::Back => return self.back(ask, events),
        };
        let yes = text == "yes";
        match ask {
            Ask::Sheet { row } => State::Work(Work::CheckSheet { typed: text, row }),
            Ask::Line(mut r) => {
                if text.parse::<i64>().is_ok_and(|n| n > 0) {
                    r.t.line = text;
                    State::Ask(Ask::Name(r))
                } else {
                    say(
                        events,
                        format!("  {text:?} is not a line number (1, 2, 3, ...)"),
                    );
                    State::Ask(Ask::Line(r))
                }
            }
            Ask::Name(r) => self.name_given(r, text, events),
            Ask::Email(mut r) => match signer::check_email(&text) {
                Ok(_) => {
                    r.t.email = text;
                    // Warn at once: no need to type the rest of a signer already in.
                    if r.t.email.trim().is_empty() {
                        State::Ask(Ask::Postcode(r))
                    } else {
                        State::Work(Work::DupCheck(r, DupAt::Email))
                    }
                }
                Err(p) => {
                    say(events, format!("  {}", p.message));
                    State::Ask(Ask::Email(r))
                }
            },
            Ask::Duplicate(r, at, can_add) => match text.to_lowercase().chars().next() {
                // Re-type the email (a typo), or the name (another spelling).
                Some('c') => State::Ask(match at {
                    DupAt::Email => Ask::Email(r),
                    DupAt::Person => Ask::Name(r),
                }),
                Some('a') if can_add => State::Ask(Ask::Phone(r)),
                _ => {
                    if r.correcting.is_none() {
                        self.consume(&r.t.line);
                    }
                    self.row_done(Step::Skip, r.correcting, events)
                }
            },
            Ask::Postcode(r) => match signer::check_postcode(&text, self.region) {
                // A person copying a form is asked, every time: the leading-zero rule
                // is for spreadsheets.
                Ok(Some(code)) if self.region.us && signer::unusual_us_zip(&code) => {
                    State::Ask(Ask::KeepZip(r, text.trim().to_string()))
                }
                Ok(_) => self.postcode_given(r, text, events),
                Err(p) => {
                    say(events, format!("  {}", p.message));
                    State::Ask(Ask::Postcode(r))
                }
            },
            Ask::KeepZip(r, typed) => {
                if yes {
                    self.postcode_given(r, typed, events)
                } else {
                    State::Ask(Ask::Postcode(r))
                }
            }
            Ask::Phone(mut r) => match signer::check_phone(&text, self.region) {
                // A number we do not recognize is kept and flagged; only a phone that
                // could not be stored (too long, control characters) is asked again.
                Ok(parsed) => {
                    if let Some((_, false)) = parsed {
                        say(
                            events,
                            "  (kept as written: not a phone number we recognize)".into(),
                        );
                    }
                    r.t.phone = text;
                    State::Ask(Ask::OptIn(r))
                }
                Err(p) => {
                    say(events, format!("  {}", p.message));
                    State::Ask(Ask::Phone(r))
                }
            },
            // Never pre-ticked: Enter means no.
            Ask::OptIn(mut r) => {
                r.t.opt_in = yes;
                State::Ask(Ask::Private(r))
            }
            Ask::Private(mut r) => {
                r.t.private = yes;
                State::Work(Work::Save(r))
            }
        }
    }

    /// `<`: one field back, keeping every answer as the field's default; from a row's
    /// first field, the previous row (a new row being typed is put aside until then).
    fn back(&mut self, ask: Ask, events: &mut Vec<Event>) -> State {
        State::Ask(match ask {
            Ask::Sheet { row: Some(row) } => Ask::Name(row),
            Ask::Sheet { row: None } => {
                return if self.accepted.is_empty() {
                    State::Work(Work::CheckSheet {
                        typed: String::new(),
                        row: None,
                    })
                } else {
                    self.back_from(self.accepted.len(), events)
                };
            }
            Ask::Line(r) => {
                let (at, _) = r.correcting.expect("only corrections ask the line");
                return self.back_from(at, events);
            }
            Ask::Name(r) if r.correcting.is_some() => Ask::Line(r),
            Ask::Name(r) => {
                if self.accepted.is_empty() {
                    events.push(Event::Say(
                        "  nothing earlier to go back to in this session".into(),
                    ));
                    return State::Ask(Ask::Name(r));
                }
                self.put_aside = Some(r);
                return self.back_from(self.accepted.len(), events);
            }
            Ask::Email(r) => Ask::Name(r),
            Ask::Duplicate(r, DupAt::Email, _) => Ask::Email(r),
            Ask::Duplicate(r, DupAt::Person, _) | Ask::KeepZip(r, _) | Ask::Phone(r) => {
                Ask::Postcode(r)
            }
            Ask::Postcode(r) => Ask::Email(r),
            Ask::OptIn(r) => Ask::Phone(r),
            Ask::Private(r) => Ask::OptIn(r),
        })
    }

    /// A name, or at a new row's name prompt: a line number (`7`, `#7`: lines before it
    /// left blank) or a sheet id (`OAK-0002`).
    fn name_given(&mut self, mut r: Row, text: String, events: &mut Vec<Event>) -> State {
        let say = |events: &mut Vec<Event>, text: String| events.push(Event::Say(text));
        let trimmed = text.trim();
        if r.correcting.is_none() {
            let number = trimmed.strip_prefix('#').unwrap_or(trimmed).trim();
            if !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()) {
                return match number.parse::<i64>() {
                    Ok(n) if n > 0 && self.sheet_lines.is_none_or(|lines| n <= lines) => {
                        r.t.line = n.to_string();
                        State::Ask(Ask::Name(r))
                    }
                    _ => {
                        say(
                            events,
                            match self.sheet_lines {
                                Some(lines) => {
                                    format!("  {number} is not a line of this sheet (1 to {lines})")
                                }
                                None => format!("  {number:?} is not a line number (1, 2, 3, ...)"),
                            },
                        );
                        State::Ask(Ask::Name(r))
                    }
                };
            }
            if looks_like_sheet_id(trimmed) {
                return State::Work(Work::CheckSheet {
                    typed: text,
                    row: Some(r),
                });
            }
            // Not a skip: an Enter typed after a one-key answer out of habit lands here.
            if trimmed.is_empty() {
                let next = r.t.line.parse::<i64>().unwrap_or(0) + 1;
                say(
                    events,
                    format!("  a name, please (line {} blank on the sheet? `#{next}` goes on at line {next})", r.t.line),
                );
                return State::Ask(Ask::Name(r));
            }
        }
        match signer::check_name(&text) {
            Ok(_) => {
                r.t.name = text;
                State::Ask(Ask::Email(r))
            }
            Err(p) => {
                say(events, format!("  {}", p.message));
                State::Ask(Ask::Name(r))
            }
        }
    }

    fn postcode_given(&mut self, mut r: Row, typed: String, events: &mut Vec<Event>) -> State {
        r.t.postcode = typed;
        if r.t.email.trim().is_empty() && r.t.postcode.trim().is_empty() {
            events.push(Event::Say(
                "  a signer needs an email or a ZIP/postcode".into(),
            ));
            return State::Ask(Ask::Email(r));
        }
        // The same name and postcode is the same person, with or without an email.
        if r.t.postcode.trim().is_empty() {
            State::Ask(Ask::Phone(r))
        } else {
            State::Work(Work::DupCheck(r, DupAt::Person))
        }
    }

    /// Validates and saves the row (a new one, or a correction).
    fn save(&mut self, store: &mut dyn Store, r: Row, events: &mut Vec<Event>) -> Result<Step> {
        let t = &r.t;
        let yes = |b: bool| if b { "yes" } else { "" };
        let raw = RawSigner {
            name: t.name.as_str().into(),
            email: &t.email,
            postcode: &t.postcode,
            phone: &t.phone,
            opt_in: yes(t.opt_in),
            private: yes(t.private),
            sheet: &r.sheet,
            line: &t.line,
            ..Default::default()
        };
        let mut signature =
            signer::validate(&raw, self.region).map_err(|p| Error::Invalid(p.to_string()))?;
        signature.source = Some(self.source);
        signature.entered_by = self.entered_by.clone();
        if let Some((at, id)) = r.correcting {
            if r.t == r.before {
                events.push(Event::Say("  unchanged".into()));
                return Ok(Step::Row);
            }
            if store.signature(self.campaign.id, id)?.is_none() {
                events.push(Event::Say(
                    "  that row was removed meanwhile (campaign signer remove): nothing to correct"
                        .into(),
                ));
                return Ok(Step::Row);
            }
            let updated = match store.update_signature(id, &signature) {
                Err(e @ Error::Forgotten { .. }) => {
                    events.push(Event::Say(format!("  {e}")));
                    return Ok(Step::Skip);
                }
                other => other?,
            };
            if !updated {
                events.push(Event::Say("  another signer already has this email".into()));
                return Ok(Step::Skip);
            }
            self.summary.corrected += 1;
            if signature.email.is_some() {
                self.people
                    .add(&signature.name, signature.postcode.as_deref(), id);
            }
            events.push(Event::Corrected { id });
            self.accepted[at].1 = r.t;
            return Ok(Step::Row);
        }
        self.consume(&r.t.line);
        let saved = match store.insert_signature(self.campaign.id, &signature) {
            // A person who asked to be forgotten: said, not saved, and the next row asked.
            Err(e @ Error::Forgotten { .. }) => {
                events.push(Event::Say(format!("  {e}")));
                return Ok(Step::Skip);
            }
            other => other?,
        };
        match saved {
            Some(id) => {
                self.summary.added += 1;
                self.total += 1;
                self.last_postcode = r.t.postcode.clone();
                events.push(Event::Saved {
                    id,
                    total: self.goal_text(self.total),
                });
                self.accepted.push((id, r.t));
                Ok(Step::Row)
            }
            None => {
                events.push(Event::Say("  already in the campaign: skipped".into()));
                Ok(Step::Skip)
            }
        }
    }

    /// Where a row's end leads: `correcting` is the row's place and id when it was a
    /// correction.
    fn row_done(
        &mut self,
        step: Step,
        correcting: Option<(usize, i64)>,
        events: &mut Vec<Event>,
    ) -> State {
        match (step, correcting) {
            (Step::End, _) => State::Work(Work::Finish),
            (Step::Row, _) => State::Work(Work::NewRow),
            (Step::Skip, None) => {
                self.summary.skipped += 1;
                State::Work(Work::NewRow)
            }
            (Step::Skip, Some(_)) => {
                self.summary.skipped += 1;
                events.push(Event::Say(
                    "  correction skipped: the row stays as it was".into(),
                ));
                State::Work(Work::NewRow)
            }
        }
    }

    /// Reopens the accepted row before place `at` (at its line).
    fn back_from(&mut self, at: usize, events: &mut Vec<Event>) -> State {
        if at == 0 {
            events.push(Event::Say(
                "  nothing earlier to go back to in this session".into(),
            ));
            return State::Work(Work::NewRow);
        }
        let at = at - 1;
        events.push(Event::Say(format!(
            "  correcting {} (Enter keeps a value, `-` clears it, `<` goes back a field)",
            if at + 1 == self.accepted.len() {
                "the previous row"
            } else {
                "the row before it"
            }
        )));
        let (id, before) = self.accepted[at].clone();
        State::Ask(Ask::Line(self.open_row(before, Some((at, id)))))
    }
}

/// The campaign's signers with an email, by name and postcode (a hash of
/// [`signer::person_key`] to their ids): read once at the first check, then only the rows
/// added since, so the same-person check stays an index lookup in a large campaign.
/// Signers without an email are found by their key in the store.
#[derive(Default)]
struct People {
    ids: rustc_hash::FxHashMap<u64, Vec<i64>>,
    /// The highest signer id read.
    read: i64,
}

impl People {
    fn hash(key: &str) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = rustc_hash::FxHasher::default();
        key.hash(&mut h);
        h.finish()
    }

    fn add(&mut self, name: &str, postcode: Option<&str>, id: i64) {
        add_person(&mut self.ids, name, postcode, id);
    }

    /// Reads the rows added since the last call (on a busy database, what was read
    /// is kept and the rest read on the next call).
    fn catch_up(&mut self, store: &dyn Store, campaign_id: i64) -> Result<()> {
        let (ids, read) = (&mut self.ids, &mut self.read);
        store.for_each_signer_after(campaign_id, *read, &mut |s| {
            *read = s.id;
            if s.email.is_some() {
                add_person(ids, &s.name, s.postcode.as_deref(), s.id);
            }
            Ok(())
        })
    }

    /// The ids whose key may be `key` (a hash match: the caller confirms).
    fn ids(&self, key: &str) -> Vec<i64> {
        self.ids.get(&Self::hash(key)).cloned().unwrap_or_default()
    }
}

fn add_person(
    ids: &mut rustc_hash::FxHashMap<u64, Vec<i64>>,
    name: &str,
    postcode: Option<&str>,
    id: i64,
) {
    if let Some(key) = signer::person_key(name, postcode) {
        let ids = ids.entry(People::hash(&key)).or_default();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
}

/// A sheet id as printed (`OAK-0007`, `oak-7`): letters, a dash, a number. Names have
/// no digits after a dash, so a name prompt can take one to switch sheets (`oak 7`, which
/// the sheet prompt takes, could be a name here).
fn looks_like_sheet_id(text: &str) -> bool {
    let Some((prefix, number)) = text.rsplit_once('-') else {
        return false;
    };
    let prefix = prefix.trim();
    !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && prefix.chars().any(|c| c.is_ascii_alphabetic())
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

fn goal_text(total: i64, goal: Option<i64>) -> String {
    match goal {
        Some(goal) => format!("{total} of {goal}"),
        None => total.to_string(),
    }
}

fn describe(s: &Signature) -> String {
    let mut out = s.name.clone();
    if let Some(email) = &s.email {
        out.push_str(&format!(" <{email}>"));
    }
    if let Some(code) = &s.postcode {
        out.push_str(&format!(", {code}"));
    }
    if let (Some(sheet), Some(line)) = (&s.sheet_id, s.line) {
        out.push_str(&format!(" (sheet {sheet} line {line})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CampaignDraft, NewSignature, Scope};
    use crate::store::SqliteStore;

    /// A campaign with a goal of 500 and two printed sheets of 10 lines (OAK-0001,
    /// OAK-0002).
    fn setup() -> (SqliteStore, Campaign) {
        let mut store = SqliteStore::open_in_memory().unwrap();
        let draft = CampaignDraft {
            title: "Oakland sanctuary".into(),
            scope: Some(Scope::Local),
            country: Some("US".into()),
            goal: Some(500),
            ..Default::default()
        };
        let campaign = store
            .insert_campaign(&draft, "oakland-sanctuary", None)
            .unwrap();
        store.record_sheets(campaign.id, "OAK", 2, 10).unwrap();
        (store, campaign)
    }

    fn session(campaign: &Campaign, sheet: Option<&str>) -> Session {
        Session::new(
            campaign.clone(),
            Region::us(),
            Source::Paper,
            Some("ana@example.org".into()),
            sheet.map(String::from),
        )
    }

    /// Drives `session` like a volunteer at the terminal: each line is what they type
    /// (Enter keeps the default, `-` clears it, `<` goes back, `.` ends; one key at
    /// yes/no and choices). Returns every line shown, prompts included (as
    /// `? prompt [default]`).
    fn drive(session: &mut Session, store: &mut dyn Store, typed: &[&str]) -> Vec<String> {
        let mut shown: Vec<String> = session
            .resume(store)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        for line in typed {
            let prompt = session
                .prompt()
                .unwrap_or_else(|| panic!("no question for {line:?}; shown: {shown:#?}"));
            shown.push(format!(
                "? {}{}",
                prompt.text.trim(),
                prompt
                    .default
                    .as_deref()
                    .map(|d| format!(" [{d}]"))
                    .unwrap_or_default()
            ));
            let answer = match (*line, prompt.kind) {
                (".", _) => Answer::End,
                ("<", _) => Answer::Back,
                ("", PromptKind::YesNo { default }) => {
                    Answer::Text(if default { "yes" } else { "no" }.into())
                }
                (y, PromptKind::YesNo { .. }) => {
                    Answer::Text(if y.starts_with('y') { "yes" } else { "no" }.into())
                }
                ("", PromptKind::Choice { default, .. }) => Answer::Text(default.to_string()),
                (c, PromptKind::Choice { .. }) => Answer::Text(c.into()),
                ("", PromptKind::Text) => Answer::Text(prompt.default.unwrap_or_default()),
                ("-", PromptKind::Text) => Answer::Text(String::new()),
                (text, PromptKind::Text) => Answer::Text(text.into()),
            };
            let events = session.answer(store, answer).unwrap();
            shown.extend(events.iter().map(ToString::to_string));
        }
        shown
    }

    fn has(shown: &[String], text: &str) -> bool {
        shown.iter().any(|l| l.contains(text))
    }

    /// One signer, from the name to the last question (phone left empty, no to both).
    fn row<'a>(name: &'a str, email: &'a str, zip: &'a str) -> Vec<&'a str> {
        vec![name, email, zip, "", "n", "n"]
    }

    fn signers(store: &dyn Store, campaign: &Campaign) -> Vec<Signature> {
        let mut all = Vec::new();
        store
            .for_each_signer(campaign.id, &mut |s| {
                all.push(s);
                Ok(())
            })
            .unwrap();
        all
    }

    #[test]
    fn rows_number_themselves_and_a_dot_ends_with_the_summary() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, None);
        let mut typed = vec!["OAK-0001"];
        typed.extend(row("Nguyễn Thị Minh Khai", "khai@example.org", "94612"));
        // The next row is line 2, the last ZIP shown as its default.
        typed.extend(row("محمد الأحمد", "", ""));
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "Entering signatures for \"Oakland sanctuary\" (0 of 500 so far)"
        ));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 1 · 0 entered · 0 of 500] Name"
        ));
        assert!(has(&shown, "saved ✓ (1 of 500 total)"));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 2 · 1 entered · 1 of 500] Name"
        ));
        assert!(has(&shown, "? ZIP/postcode [94612]"));
        assert!(!has(&shown, "? Line"), "no line prompt for a new row");
        assert!(s.ended());
        assert_eq!(
            s.summary(),
            &EntrySummary {
                added: 2,
                total: 2,
                goal: Some(500),
                ..Default::default()
            }
        );
        assert_eq!(
            shown.last().unwrap(),
            "added 2, skipped 0, corrected 0; the campaign now has 2 of 500 signatures"
        );
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].name, "Nguyễn Thị Minh Khai");
        assert_eq!(all[1].name, "محمد الأحمد");
        assert_eq!(all[1].postcode.as_deref(), Some("94612"));
        assert_eq!(all[1].line, Some(2));
        assert!(all
            .iter()
            .all(|s| s.sheet_id.as_deref() == Some("OAK-0001")));
        assert!(all.iter().all(|s| s.source == Source::Paper));
    }

    #[test]
    fn back_steps_one_field_within_a_row_keeping_what_was_typed() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        // Name, email, ZIP, then back twice: the email then the name, each shown as typed.
        let typed = [
            "Ana Lopez",
            "ana@example.org",
            "94612",
            "<", // at the phone: back to the ZIP
            "<", // at the ZIP: back to the email
            "<", // at the email: back to the name
            "Ana López",
            "",
            "",
            "5105550101",
            "<", // at the mailing list: back to the phone
            "",
            "y",
            "<", // at "don't show my name": back to the mailing list
            "",
            "",
            ".",
        ];
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "? Email [ana@example.org]"));
        assert!(has(&shown, "? ZIP/postcode [94612]"));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 1 · 0 entered · 0 of 500] Name [Ana Lopez]"
        ));
        assert!(has(&shown, "? Phone [5105550101]"));
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].name, "Ana López");
        assert_eq!(all[0].email.as_deref(), Some("ana@example.org"));
        assert_eq!(all[0].postcode.as_deref(), Some("94612"));
        assert_eq!(all[0].phone.as_deref(), Some("+15105550101"));
        assert!(
            all[0].opt_in,
            "the mailing list answer was kept through `<`"
        );
    }

    #[test]
    fn back_from_the_name_corrects_the_previous_row_and_the_row_being_typed_comes_back() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("oak-0001"));
        let mut typed = Vec::new();
        typed.extend(row("Ana Lopez", "ana@example.org", "94612"));
        typed.extend(row("Li Na", "li@example.org", "94601"));
        // A third row typed up to its email, then back to its name, then `<` again:
        // Li Na's row opens (at its line), and `<` there goes to Ana's.
        typed.extend(["Thu Hà", "<", "<", "<"]);
        // Ana's: keep the line, fix the name, keep the rest.
        typed.extend(["", "Ana López", "", "", "", "", ""]);
        // Thu Hà's row is back as typed.
        typed.extend(["", "thu@example.org", "", "", "", ""]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "correcting the previous row"));
        assert!(has(&shown, "correcting the row before it"));
        assert!(has(&shown, "? Line [2]"));
        assert!(has(&shown, "? Name [Ana Lopez]"));
        assert!(has(&shown, "corrected ✓"));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 3 · 2 entered · 2 of 500] Name [Thu Hà]"
        ));
        assert_eq!(s.summary().corrected, 1);
        assert_eq!(s.summary().added, 3);
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 3, "a correction adds no row");
        assert_eq!(all[0].name, "Ana López");
        assert_eq!(all[0].line, Some(1));
        assert_eq!(all[1].name, "Li Na");
        assert_eq!((all[2].name.as_str(), all[2].line), ("Thu Hà", Some(3)));
        assert_eq!(all[2].postcode.as_deref(), Some("94601"));
    }

    #[test]
    fn back_with_nothing_earlier_says_so_and_an_unchanged_correction_saves_nothing() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = vec!["<"];
        typed.extend(row("Ana Lopez", "ana@example.org", "94612"));
        typed.extend(["<", "", "", "", "", "", "", ""]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "nothing earlier to go back to in this session"));
        assert!(has(&shown, "  unchanged"));
        assert_eq!(s.summary().corrected, 0);
    }

    #[test]
    fn a_duplicate_shows_the_earlier_signer_and_a_skipped_line_is_consumed() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("Ana Lopez", "ana@example.org", "94612"));
        // The same email again: shown at once, skipped with Enter (line 2 is used).
        typed.extend(["Ana L.", "ANA@example.org", ""]);
        // Again on line 3, and corrected: the email is asked again.
        typed.extend([
            "Ana L.",
            "ana@example.org",
            "c",
            "ana.l@example.org",
            "",
            "",
            "",
            "",
        ]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "already signed: Ana Lopez <ana@example.org>, 94612 (sheet OAK-0001 line 1)"
        ));
        assert!(has(&shown, "? [s]kip this row or [c]orrect it?"));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 3 · 1 entered · 1 of 500] Name"
        ));
        assert_eq!(s.summary().skipped, 1);
        assert_eq!(s.summary().added, 2);
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].email.as_deref(), Some("ana.l@example.org"));
        assert_eq!(all[1].line, Some(3), "the skipped row consumed line 2");
    }

    #[test]
    fn the_same_name_and_postcode_is_a_duplicate_with_or_without_an_email() {
        let (mut store, campaign) = setup();
        // An online signer with an email, before the session.
        let online = NewSignature {
            name: "Rosa Martínez".into(),
            email: Some("rosa@example.org".into()),
            postcode: Some("94601".into()),
            dedupe_key: "rosa@example.org".into(),
            ..Default::default()
        };
        store
            .insert_signature(campaign.id, &online)
            .unwrap()
            .unwrap();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        // Without an email: a duplicate of the online row (skipped).
        typed.extend(["rosa  martínez", "", "94601", "s"]);
        // A typed row without an email...
        typed.extend(row("Li Na", "", "94612"));
        // ...and the same person with an email: a duplicate too; [a]dds another person.
        typed.extend(["Li Na", "li@example.org", "", "a", "", "", ""]);
        // Two rows without an email cannot both be kept: no [a]dd offered.
        typed.extend(["LI NA", "", "", ""]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "already signed: Rosa Martínez <rosa@example.org>, 94601"
        ));
        assert!(has(
            &shown,
            "already signed: Li Na, 94612 (sheet OAK-0001 line 2)"
        ));
        assert!(has(
            &shown,
            "? [s]kip this row, [c]orrect it, or [a]dd it (another person)?"
        ));
        assert_eq!(s.summary().skipped, 2);
        assert_eq!(s.summary().added, 2);
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].email.as_deref(), Some("li@example.org"));
        assert_eq!(all[2].line, Some(3));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 5 · 2 entered · 3 of 500] Name"
        ));
    }

    #[test]
    fn the_same_person_check_reads_what_others_add_and_forgets_what_they_remove() {
        let (mut store, campaign) = setup();
        let online = |name: &str, email: &str| NewSignature {
            name: name.into(),
            email: Some(email.into()),
            postcode: Some("94601".into()),
            dedupe_key: email.into(),
            ..Default::default()
        };
        let rosa = store
            .insert_signature(campaign.id, &online("Rosa Díaz", "rosa@example.org"))
            .unwrap()
            .unwrap();
        let mut s = session(&campaign, Some("OAK-0001"));
        // The first check reads the campaign: Rosa is found.
        let shown = drive(&mut s, &mut store, &["Rosa Díaz", "", "94601", "s"]);
        assert!(has(&shown, "already signed: Rosa Díaz <rosa@example.org>"));
        // Meanwhile an import elsewhere adds Li Na, and someone removes Rosa.
        store
            .insert_signature(campaign.id, &online("Li Na", "li@example.org"))
            .unwrap()
            .unwrap();
        let gone = store.signature(campaign.id, rosa).unwrap().unwrap();
        store.remove_signature(&gone, None).unwrap();
        let shown = drive(&mut s, &mut store, &["Li Na", "", "94601", "s"]);
        assert!(has(&shown, "already signed: Li Na <li@example.org>"));
        // Rosa is no longer there: no false duplicate, the row is saved.
        let shown = drive(
            &mut s,
            &mut store,
            &["Rosa Díaz", "", "94601", "", "", "", "."],
        );
        assert!(!has(&shown, "already signed"), "{shown:#?}");
        assert_eq!(s.summary().added, 1);
    }

    #[test]
    fn correcting_a_row_removed_meanwhile_says_so_and_saves_nothing() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = row("Ana Lopez", "ana@example.org", "94612");
        typed.extend(["<", "", "Ana López"]);
        drive(&mut s, &mut store, &typed);
        let ana = signers(&store, &campaign).remove(0);
        store.remove_signature(&ana, None).unwrap();
        let shown = drive(&mut s, &mut store, &["", "", "", "", "", "."]);
        assert!(has(&shown, "that row was removed meanwhile"), "{shown:#?}");
        assert!(signers(&store, &campaign).is_empty(), "not brought back");
        assert_eq!(s.summary().corrected, 0);
        assert!(!has(&shown, "correction skipped"), "{shown:#?}");
    }

    #[test]
    fn a_busy_database_during_the_same_person_check_keeps_the_row() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        drive(&mut s, &mut store, &["Ana Lopez", ""]);
        // The same-person lookup after the ZIP finds the database busy.
        store.make_busy(1);
        let events = s.answer(&mut store, Answer::Text("94612".into())).unwrap();
        assert_eq!(events, [Event::Busy { note: LOOKING }]);
        assert!(s.resume(&mut store).unwrap().is_empty());
        assert_eq!(s.prompt().unwrap().text, "  Phone");
    }

    #[test]
    fn a_typed_four_digit_zip_is_asked_about_and_kept_as_typed() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        // 9461: asked; no retypes it, then 946: asked, yes keeps it as typed.
        let typed = [
            "Ana Lopez",
            "",
            "9461",
            "n",
            "94610",
            "",
            "",
            "",
            "Li Na",
            "",
            "946",
            "y",
            "",
            "",
            "",
            ".",
        ];
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "? 9461 is not a 5 or 9 digit ZIP; keep it as typed?"
        ));
        assert!(has(
            &shown,
            "? 946 is not a 5 or 9 digit ZIP; keep it as typed?"
        ));
        let all = signers(&store, &campaign);
        assert_eq!(all[0].postcode.as_deref(), Some("94610"));
        assert_eq!(all[1].postcode.as_deref(), Some("946"), "not padded");
    }

    #[test]
    fn a_carried_over_zip_is_shown_enter_keeps_it_and_a_dash_clears_it() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("Ana Lopez", "", "94612"));
        typed.extend(row("Li Na", "li@example.org", ""));
        typed.extend(row("Thu Hà", "thu@example.org", "-"));
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "? ZIP/postcode [94612]"));
        let all = signers(&store, &campaign);
        assert_eq!(all[1].postcode.as_deref(), Some("94612"));
        assert_eq!(all[2].postcode, None);
    }

    #[test]
    fn at_the_end_of_a_sheet_the_next_sheet_id_is_asked_and_numbers_from_one() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = vec!["9"];
        typed.extend(row("Ana Lopez", "ana@example.org", "94612"));
        // A stray Enter skips nothing; line 10 is the last, and the sheet is done.
        typed.push("");
        typed.extend(row("Thu Hà", "thu@example.org", "94612"));
        // A sheet never printed is refused, then the next sheet is taken.
        typed.extend(["OAK-0009", "OAK-0002"]);
        typed.extend(row("Li Na", "li@example.org", "94601"));
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "? [OAK-0001 · line 9 · 0 entered · 0 of 500] Name"
        ));
        assert!(has(
            &shown,
            "a name, please (line 10 blank on the sheet? `#11` goes on at line 11)"
        ));
        assert!(has(
            &shown,
            "sheet OAK-0001 is done (10 lines): type the next sheet's id (`.` finishes)"
        ));
        assert!(has(
            &shown,
            "sheet OAK-0009 was never printed for this campaign: check the footer and type it again"
        ));
        assert!(has(
            &shown,
            "? [OAK-0002 · line 1 · 2 entered · 2 of 500] Name"
        ));
        let all = signers(&store, &campaign);
        assert_eq!(all[0].line, Some(9));
        assert_eq!(all[1].line, Some(10));
        assert_eq!(all[2].sheet_id.as_deref(), Some("OAK-0002"));
        assert_eq!(all[2].line, Some(1));
    }

    #[test]
    fn a_name_prompt_takes_a_sheet_id_or_a_line_and_refuses_a_line_off_the_sheet() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let shown = drive(
            &mut s,
            &mut store,
            &["#11", "oak-2", "#4", "Ana 2", "", "94612", "", "", "", "."],
        );
        // "Ana 2" has no dash: a name, not a sheet.
        assert_eq!(signers(&store, &campaign)[0].name, "Ana 2");
        assert!(has(&shown, "11 is not a line of this sheet (1 to 10)"));
        assert!(has(
            &shown,
            "? [OAK-0002 · line 1 · 0 entered · 0 of 500] Name"
        ));
        assert!(has(
            &shown,
            "? [OAK-0002 · line 4 · 0 entered · 0 of 500] Name"
        ));
        let all = signers(&store, &campaign);
        assert_eq!(
            (all[0].sheet_id.as_deref(), all[0].line),
            (Some("OAK-0002"), Some(4))
        );
    }

    #[test]
    fn a_dot_mid_row_says_the_row_was_not_saved() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let shown = drive(&mut s, &mut store, &["Ana Lopez", "."]);
        assert!(has(&shown, "the row of Ana Lopez was not saved"));
        assert!(s.ended());
    }

    #[test]
    fn a_new_session_resumes_the_sheet_at_its_next_line() {
        let (mut store, campaign) = setup();
        let mut first = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("Ana Lopez", "ana@example.org", "94612"));
        typed.extend(row("Li Na", "li@example.org", "94601"));
        typed.push(".");
        drive(&mut first, &mut store, &typed);
        let mut again = session(&campaign, Some("OAK-0001"));
        let shown = drive(&mut again, &mut store, &["."]);
        assert!(has(&shown, "(2 of 500 so far)"));
        assert!(has(
            &shown,
            "? [OAK-0001 · line 3 · 0 entered · 2 of 500] Name"
        ));
    }

    #[test]
    fn a_busy_database_keeps_the_typed_row_and_saves_it_once_on_resume() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        drive(&mut s, &mut store, &["Ana Lopez"]);
        // The duplicate lookup after the email finds the database busy twice.
        store.make_busy(2);
        let events = s
            .answer(&mut store, Answer::Text("ana@example.org".into()))
            .unwrap();
        assert_eq!(events, [Event::Busy { note: LOOKING }]);
        assert!(s.prompt().is_none() && !s.ended(), "waits for the store");
        assert_eq!(
            s.resume(&mut store).unwrap(),
            [Event::Busy { note: LOOKING }]
        );
        assert!(s.resume(&mut store).unwrap().is_empty());
        assert_eq!(s.prompt().unwrap().text, "  ZIP/postcode");
        // Then the save does: the row is kept, said so, and saved once when it clears.
        drive(&mut s, &mut store, &["94612", "", "n"]);
        store.make_busy(1);
        let events = s.answer(&mut store, Answer::Text("no".into())).unwrap();
        assert_eq!(events, [Event::Busy { note: SAVING }]);
        assert!(events[0].to_string().contains("your row is kept"));
        let events = s.resume(&mut store).unwrap();
        assert!(matches!(events[0], Event::Saved { .. }), "{events:?}");
        assert_eq!(signers(&store, &campaign).len(), 1);
        assert_eq!(s.summary().added, 1);
        assert!(s.prompt().unwrap().text.contains("line 2"));
    }

    #[test]
    fn an_unknown_start_sheet_asks_for_one() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("XYZ-1"));
        let shown = drive(&mut s, &mut store, &["OAK-0002", "."]);
        assert!(has(
            &shown,
            "sheet XYZ-0001 was never printed for this campaign"
        ));
        assert!(has(&shown, "? Sheet id (from the sheet's footer)"));
        assert!(s.ended());
    }

    #[test]
    fn a_forgotten_person_is_said_not_saved_and_the_next_row_is_asked() {
        let (mut store, campaign) = setup();
        let minh = NewSignature {
            name: "Nguyễn Thị Minh Khai".into(),
            email: Some("minh@example.org".into()),
            postcode: Some("94601".into()),
            dedupe_key: "minh@example.org".into(),
            ..Default::default()
        };
        store.insert_signature(campaign.id, &minh).unwrap().unwrap();
        let person = crate::model::PersonKey {
            keys: vec!["minh@example.org".into()],
            by_name: false,
        };
        store.forget_person(&person).unwrap();
        let mut s = session(&campaign, Some("OAK-0001"));
        // By email, then by name and postcode without one: both kept out.
        let mut typed = row("Nguyễn Thị Minh Khai", "MINH@example.org", "94601");
        typed.extend(row("nguyễn thị minh khai", "", "94601"));
        typed.extend(row("李娜", "", "94612"));
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert_eq!(
            shown
                .iter()
                .filter(|l| l.contains("asked on") && l.contains("not saved"))
                .count(),
            2,
            "{shown:#?}"
        );
        let names: Vec<String> = signers(&store, &campaign)
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["李娜"]);
        assert_eq!((s.summary().added, s.summary().skipped), (1, 2));
    }
}

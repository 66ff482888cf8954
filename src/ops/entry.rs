//! Typed entry of paper signatures as a state machine, with no terminal: the session says
//! what to ask ([`Session::prompt`]), is fed the answer ([`Session::answer`]) and returns
//! what to show ([`Event`]s). The command only loops: ask through `ui::entry`, feed,
//! show. Unit tests drive it with scripted answers against an in-memory store.
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
pub use crate::ui::entry::{Answer, Prompt};

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

/// Where the duplicate check comes: after the email, or (without one) after the postcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DupAt {
    Email,
    Postcode,
}

/// Waiting for an answer.
#[derive(Debug, Clone)]
enum Ask {
    /// The sheet id; `row` is the row whose line prompt named a sheet (None at the start).
    Sheet {
        row: Option<Row>,
    },
    Line(Row),
    Name(Row),
    Email(Row),
    Duplicate(Row),
    Postcode(Row),
    /// Keep an unusual US ZIP (`code`, as typed `typed`)?
    KeepZip(Row, String, String),
    Phone(Row),
    OptIn(Row),
    Private(Row),
}

/// Work with the store before the next question. On a busy database it stays pending.
#[derive(Debug, Clone)]
enum Work {
    /// Count the campaign, greet, find the `--sheet`.
    Start,
    StartSheet(String),
    /// Look up the sheet id typed (at the start, or at a row's line prompt).
    CheckSheet {
        typed: String,
        row: Option<Row>,
    },
    /// The next line of the sheet, then the row typed at a line prompt continues.
    LineAfterSheet(Row),
    /// A fresh row at the next line of the sheet.
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
    Back,
    End,
    Skip,
}

/// One typing session on one campaign.
pub struct Session {
    campaign: Campaign,
    region: Region,
    source: Source,
    entered_by: Option<String>,
    /// The sheet rows go on.
    sheet: Option<String>,
    /// `--sheet`, looked up once the session has greeted.
    start_sheet: Option<String>,
    /// Accepted rows of this session (id, as typed), in entry order. A correction edits
    /// its row in place: a row never leaves this list, so `<` can always reach it.
    accepted: Vec<(i64, Typed)>,
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
            region,
            source,
            entered_by,
            sheet: None,
            start_sheet: sheet,
            accepted: Vec::new(),
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
            Ask::Line(r) => t(
                &format!(
                    "[{} · {} entered · {}] Line",
                    if r.sheet.is_empty() {
                        "no sheet"
                    } else {
                        &r.sheet
                    },
                    self.summary.added,
                    self.goal_text(self.total)
                ),
                &r.t.line,
            ),
            Ask::Name(r) => t("  Name", &r.t.name),
            Ask::Email(r) => t("  Email", &r.t.email),
            Ask::Duplicate(..) => t("  [s]kip this row or [c]orrect it?", "s"),
            Ask::Postcode(r) => t("  ZIP/postcode", &r.t.postcode),
            Ask::KeepZip(_, code, _) => Prompt::yes_no(
                &format!("  {code} is not a 5 or 9 digit ZIP; keep it?"),
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
                events.push(Event::Say(format!(
                    "Entering signatures for \"{}\" ({} so far). `<` corrects the previous row, `.` or Ctrl-D finishes.",
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
                        self.sheet = Some(s.sheet_id);
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
                        self.sheet = Some(sheet.sheet_id);
                        self.sheet_chosen(row)
                    }
                    None => {
                        events.push(Event::Say(format!(
                            "  sheet {answer} was never printed for this campaign: check the footer and type it again"
                        )));
                        State::Ask(Ask::Sheet { row })
                    }
                },
            },
            Work::LineAfterSheet(row) => {
                let line = self.next_line(store)?;
                let t = Typed {
                    line: line.to_string(),
                    ..row.t
                };
                State::Ask(Ask::Line(self.open_row(t, None)))
            }
            Work::NewRow => {
                let line = self.next_line(store)?;
                let t = Typed {
                    line: line.to_string(),
                    postcode: self.last_postcode.clone(),
                    ..Default::default()
                };
                State::Ask(Ask::Line(self.open_row(t, None)))
            }
            Work::DupCheck(row, at) => {
                let email = signer::check_email(&row.t.email).ok().flatten();
                let postcode = signer::check_postcode(&row.t.postcode, self.region)
                    .ok()
                    .flatten();
                let key = signer::dedupe_key(&row.t.name, email.as_deref(), postcode.as_deref());
                match store.find_signature_by_key(id, &key)? {
                    Some(earlier) if Some(earlier.id) != row.correcting.map(|(_, id)| id) => {
                        events.push(Event::Duplicate {
                            earlier: Box::new(earlier),
                        });
                        State::Ask(Ask::Duplicate(row))
                    }
                    _ => State::Ask(match at {
                        DupAt::Email => Ask::Postcode(row),
                        DupAt::Postcode => Ask::Phone(row),
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

    /// After a sheet id was accepted: the start goes on with a fresh row; a row whose
    /// line prompt named the sheet goes on at the new sheet's next line.
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

    /// The next line of the current sheet.
    fn next_line(&self, store: &mut dyn Store) -> Result<i64> {
        Ok(store.last_line(self.campaign.id, self.sheet.as_deref())? + 1)
    }

    /// Where an answer leads (store work comes after, in [`Session::resume`]).
    fn answered(&mut self, ask: Ask, answer: Answer, events: &mut Vec<Event>) -> State {
        let say = |events: &mut Vec<Event>, text: String| events.push(Event::Say(text));
        // `<` and `.` end the row wherever it is (the sheet prompt: `.` ends the session).
        let row_of = |ask: &Ask| -> Option<(usize, i64)> {
            match ask {
                Ask::Sheet { .. } => None,
                Ask::Line(r)
                | Ask::Name(r)
                | Ask::Email(r)
                | Ask::Duplicate(r)
                | Ask::Postcode(r)
                | Ask::KeepZip(r, ..)
                | Ask::Phone(r)
                | Ask::OptIn(r)
                | Ask::Private(r) => r.correcting,
            }
        };
        let text = match answer {
            Answer::Text(text) => text,
            Answer::End => return self.row_done(Step::End, row_of(&ask), events),
            // At the sheet prompt `<` names no sheet: the same as an empty answer.
            Answer::Back => match ask {
                Ask::Sheet { row } => {
                    return State::Work(Work::CheckSheet {
                        typed: String::new(),
                        row,
                    })
                }
                other => return self.row_done(Step::Back, row_of(&other), events),
            },
        };
        let yes = text == "yes";
        match ask {
            Ask::Sheet { row } => State::Work(Work::CheckSheet { typed: text, row }),
            Ask::Line(mut r) => {
                if text.parse::<i64>().is_ok_and(|n| n > 0) {
                    r.t.line = text;
                    State::Ask(Ask::Name(r))
                } else if text.chars().any(|c| c.is_ascii_alphabetic()) && r.correcting.is_none() {
                    State::Work(Work::CheckSheet {
                        typed: text,
                        row: Some(r),
                    })
                } else {
                    say(
                        events,
                        format!("  {text:?} is not a line number (1, 2, 3, ...)"),
                    );
                    State::Ask(Ask::Line(r))
                }
            }
            Ask::Name(mut r) => match signer::check_name(&text) {
                Ok(_) => {
                    r.t.name = text;
                    State::Ask(Ask::Email(r))
                }
                Err(p) => {
                    say(events, format!("  {}", p.message));
                    State::Ask(Ask::Name(r))
                }
            },
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
            Ask::Duplicate(r) => {
                if text.to_lowercase().starts_with('c') {
                    // Re-type the email (and postcode).
                    State::Ask(Ask::Email(r))
                } else {
                    self.row_done(Step::Skip, r.correcting, events)
                }
            }
            Ask::Postcode(r) => match signer::check_postcode(&text, self.region) {
                Ok(Some(code)) if self.region.us && signer::unusual_us_zip(&code) => {
                    State::Ask(Ask::KeepZip(r, code, text))
                }
                Ok(_) => self.postcode_given(r, text, events),
                Err(p) => {
                    say(events, format!("  {}", p.message));
                    State::Ask(Ask::Postcode(r))
                }
            },
            Ask::KeepZip(r, _, typed) => {
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

    fn postcode_given(&mut self, mut r: Row, typed: String, events: &mut Vec<Event>) -> State {
        r.t.postcode = typed;
        if r.t.email.trim().is_empty() && r.t.postcode.trim().is_empty() {
            events.push(Event::Say(
                "  a signer needs an email or a ZIP/postcode".into(),
            ));
            return State::Ask(Ask::Email(r));
        }
        // Without an email the signer is known by name and postcode.
        if r.t.email.trim().is_empty() {
            State::Work(Work::DupCheck(r, DupAt::Postcode))
        } else {
            State::Ask(Ask::Phone(r))
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
            if !store.update_signature(id, &signature)? {
                events.push(Event::Say("  another signer already has this email".into()));
                return Ok(Step::Skip);
            }
            self.summary.corrected += 1;
            events.push(Event::Corrected { id });
            self.accepted[at].1 = r.t;
            return Ok(Step::Row);
        }
        match store.insert_signature(self.campaign.id, &signature)? {
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
            // `<` at a new row reopens the latest row of the session; `<` while
            // correcting, the one before it. After a correction (saved, skipped or
            // unchanged) the next `<` starts again from the latest row.
            (Step::Back, None) => self.back_from(self.accepted.len(), events),
            (Step::Back, Some((at, _))) => self.back_from(at, events),
        }
    }

    /// Reopens the accepted row before place `at`.
    fn back_from(&mut self, at: usize, events: &mut Vec<Event>) -> State {
        if at == 0 {
            events.push(Event::Say(
                "  nothing earlier to go back to in this session".into(),
            ));
            return State::Work(Work::NewRow);
        }
        let at = at - 1;
        events.push(Event::Say(format!(
            "  correcting {} (Enter keeps a value, `-` clears it, `<` goes further back)",
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
    use crate::model::{CampaignDraft, Scope};
    use crate::store::SqliteStore;
    use crate::ui::entry::PromptKind;

    /// A campaign with a goal of 500 and two printed sheets (OAK-0001, OAK-0002).
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
    /// (Enter keeps the default, `-` clears it, `<` goes back, `.` ends; y/n at yes/no
    /// questions). Returns every line shown, prompts included (as `? prompt [default]`).
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

    /// One signer, from the line prompt to the last question (phone left empty).
    fn row<'a>(line: &'a str, name: &'a str, email: &'a str, zip: &'a str) -> Vec<&'a str> {
        vec![line, name, email, zip, "", "n", "n"]
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
    fn rows_are_saved_as_typed_and_a_dot_ends_with_the_summary() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, None);
        let mut typed = vec!["OAK-0001"];
        typed.extend(row("", "Nguyễn Thị Minh Khai", "khai@example.org", "94612"));
        // The next row starts at line 2 with the last postcode as its default.
        typed.extend(row("", "محمد الأحمد", "", ""));
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "Entering signatures for \"Oakland sanctuary\" (0 of 500 so far)"
        ));
        assert!(has(&shown, "? [OAK-0001 · 0 entered · 0 of 500] Line [1]"));
        assert!(has(&shown, "saved ✓ (1 of 500 total)"));
        assert!(has(&shown, "? [OAK-0001 · 1 entered · 1 of 500] Line [2]"));
        assert!(has(&shown, "? ZIP/postcode [94612]"));
        assert!(has(&shown, "saved ✓ (2 of 500 total)"));
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
    fn back_reopens_the_previous_row_and_a_corrected_field_is_saved_in_place() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("oak-0001"));
        let mut typed = Vec::new();
        typed.extend(row("", "Ana Lopez", "ana@example.org", "94612"));
        typed.extend(row("", "Li Na", "li@example.org", "94601"));
        // `<` at the new row reopens Li Na's; `<` again goes to Ana's.
        typed.extend(["<", "<"]);
        // Keep the line, fix the name, keep the rest.
        typed.extend(["", "Ana López", "", "", "", "", ""]);
        // Back at a new row: `<` with the line prompt, then `.` ends mid-correction.
        typed.extend(["<", "."]);
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "correcting the previous row"));
        assert!(has(&shown, "correcting the row before it"));
        assert!(has(&shown, "? Name [Ana Lopez]"));
        assert!(has(&shown, "corrected ✓"));
        assert_eq!(s.summary().corrected, 1);
        assert_eq!(s.summary().added, 2);
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 2, "a correction adds no row");
        assert_eq!(all[0].name, "Ana López");
        assert_eq!(all[0].line, Some(1));
        assert_eq!(all[1].name, "Li Na");
    }

    #[test]
    fn back_with_nothing_earlier_says_so_and_an_unchanged_correction_saves_nothing() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = vec!["<"];
        typed.extend(row("", "Ana Lopez", "ana@example.org", "94612"));
        typed.extend(["<", "", "", "", "", "", "", ""]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(&shown, "nothing earlier to go back to in this session"));
        assert!(has(&shown, "  unchanged"));
        assert_eq!(s.summary().corrected, 0);
    }

    #[test]
    fn a_duplicate_shows_the_earlier_signer_and_can_be_skipped_or_corrected() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("", "Ana Lopez", "ana@example.org", "94612"));
        // The same email again: shown at once, skipped with Enter.
        typed.extend(["", "Ana L.", "ANA@example.org", ""]);
        // Again, and corrected: the email is asked again.
        typed.extend([
            "",
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
        assert!(has(&shown, "? [s]kip this row or [c]orrect it? [s]"));
        assert_eq!(s.summary().skipped, 1);
        assert_eq!(s.summary().added, 2);
        let all = signers(&store, &campaign);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].email.as_deref(), Some("ana.l@example.org"));
        // The skipped row did not take a line: the corrected one is line 2.
        assert_eq!(all[1].line, Some(2));
    }

    #[test]
    fn at_the_end_of_a_sheet_the_next_sheet_id_switches_and_numbers_from_one() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("", "Ana Lopez", "ana@example.org", "94612"));
        // A sheet never printed is refused, then the next sheet is taken.
        typed.extend(["OAK-0009", "OAK-0002"]);
        typed.extend(["", "Li Na", "li@example.org", "94601", "", "", ""]);
        typed.push(".");
        let shown = drive(&mut s, &mut store, &typed);
        assert!(has(
            &shown,
            "sheet OAK-0009 was never printed for this campaign: check the footer and type it again"
        ));
        assert!(has(&shown, "? [OAK-0002 · 1 entered · 1 of 500] Line [1]"));
        let all = signers(&store, &campaign);
        assert_eq!(all[1].sheet_id.as_deref(), Some("OAK-0002"));
        assert_eq!(all[1].line, Some(1));
    }

    #[test]
    fn a_new_session_resumes_the_sheet_at_its_next_line() {
        let (mut store, campaign) = setup();
        let mut first = session(&campaign, Some("OAK-0001"));
        let mut typed = Vec::new();
        typed.extend(row("", "Ana Lopez", "ana@example.org", "94612"));
        typed.extend(row("", "Li Na", "li@example.org", "94601"));
        typed.push(".");
        drive(&mut first, &mut store, &typed);
        let mut again = session(&campaign, Some("OAK-0001"));
        let shown = drive(&mut again, &mut store, &["."]);
        assert!(has(&shown, "(2 of 500 so far)"));
        assert!(has(&shown, "? [OAK-0001 · 0 entered · 2 of 500] Line [3]"));
    }

    #[test]
    fn a_busy_database_keeps_the_typed_row_and_saves_it_once_on_resume() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("OAK-0001"));
        drive(&mut s, &mut store, &["", "Ana Lopez"]);
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
        assert_eq!(s.prompt().unwrap().default.as_deref(), Some("2"));
    }

    #[test]
    fn an_unknown_start_sheet_asks_for_one_and_a_line_must_be_a_number() {
        let (mut store, campaign) = setup();
        let mut s = session(&campaign, Some("XYZ-1"));
        let shown = drive(&mut s, &mut store, &["OAK-0002", "0", "."]);
        assert!(has(
            &shown,
            "sheet XYZ-0001 was never printed for this campaign"
        ));
        assert!(has(&shown, "? Sheet id (from the sheet's footer)"));
        assert!(has(&shown, "\"0\" is not a line number (1, 2, 3, ...)"));
        assert!(s.ended());
    }
}

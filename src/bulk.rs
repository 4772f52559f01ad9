//! Bulk import and export: the `import` and `export` commands.
//!
//! Export streams every profile to a file or standard output as NDJSON (the reference
//! platform's profile JSON, one a line) or as CSV of the flat fields. Pages of
//! `service::export` are written as they are read: memory does not grow with the table.
//!
//! Import reads the same formats a batch at a time (memory does not grow with the
//! file) and hands each batch to the service's import, the code `importProfiles`
//! runs; failed rows go to a rejects file with their line and errors.

use std::io::{BufRead, Read as _, Write};

use serde_json::{Map, Value};

use crate::domain::phone::Region;
use crate::domain::validate::{UserError, UserErrorCode};
use crate::service::bulk::export::{self, Export};
use crate::service::bulk::formula;
use crate::service::bulk::import;
use crate::service::bulk::json::{self, NotARow};
use crate::service::bulk::known::{self, UnknownKeys};
use crate::service::bulk::read;
use crate::service::bulk::row::{ImportKey, ImportRow, Mode, Status};
use crate::service::runtime::Services;
pub use document::JsonDocument;
use records::Record;
use tokio::sync::mpsc;

mod document;
mod records;

/// The form of an exported file.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One profile JSON a line, nested relations included.
    Ndjson,
    /// A header row of snake_case names, then the flat fields of one profile a row.
    Csv,
}

/// Where exported profiles go, in their format.
enum Sink<W: Write> {
    Ndjson(std::io::BufWriter<W>),
    Csv(Box<csv::Writer<W>>),
}

impl<W: Write> Sink<W> {
    /// A sink writing `format` to `out`; a CSV starts with its header.
    fn new(format: Format, out: W) -> anyhow::Result<Self> {
        Ok(match format {
            Format::Ndjson => Sink::Ndjson(std::io::BufWriter::new(out)),
            Format::Csv => {
                let mut out = csv::Writer::from_writer(out);
                out.write_record(export::FLAT)?;
                Sink::Csv(Box::new(out))
            }
        })
    }

    fn write(&mut self, profile: &Map<String, Value>) -> anyhow::Result<()> {
        match self {
            Sink::Ndjson(out) => {
                serde_json::to_writer(&mut *out, profile)?;
                out.write_all(b"\n")?;
            }
            // Cells a spreadsheet would run as formulas are quoted.
            Sink::Csv(out) => out.write_record(export::flat_cells(profile).into_iter().map(formula::neutralise))?,
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Ndjson(out) => out.flush(),
            Sink::Csv(out) => out.flush(),
        }
    }
}

/// Writes every profile (deleted ones with `include_deleted`) to `out` in `format`, in
/// id order, read `page` profiles at a time; returns how many were written.
pub async fn export(
    db: &Services,
    format: Format,
    include_deleted: bool,
    page: u64,
    out: impl Write,
) -> anyhow::Result<u64> {
    let today = db.clock.today();
    let mut pages = Export::new(include_deleted, page);
    let mut sink = Sink::new(format, out)?;
    let mut written = 0u64;
    loop {
        let profiles = pages.next(&db.db, today).await?;
        if profiles.is_empty() {
            break;
        }
        for profile in &profiles {
            sink.write(profile)?;
        }
        written += profiles.len() as u64;
    }
    sink.flush()?;
    Ok(written)
}

/// Rows imported per wave of [`import`]: one read of the matched profiles, one
/// statement per table for the new ones, one transaction.
pub const IMPORT_BATCH: usize = 500;

/// The longest line an NDJSON import reads, and the longest record of a CSV's; a
/// longer one is rejected unkept.
pub(crate) const MAX_LINE: usize = 1 << 20;

/// How an import goes.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    pub format: Format,
    pub mode: Mode,
    pub keys: Vec<ImportKey>,
    pub region: Region,
    pub batch: usize,
}

/// What an import has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// The last line read (the header of a CSV is line 1).
    pub line: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// The keys (CSV: columns) of the rows that the import does not know, and ignored.
    pub unknown_keys: UnknownKeys,
    /// Reference records the file describes otherwise than this database holds them:
    /// kept as they are, each counted once (and named in the log).
    pub kept: u64,
}

impl Counts {
    pub(crate) fn rows(&self) -> u64 {
        self.created + self.updated + self.unchanged + self.failed
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} rows: {} created, {} updated, {} unchanged, {} failed",
            self.rows(),
            self.created,
            self.updated,
            self.unchanged,
            self.failed
        )?;
        if self.kept > 0 {
            write!(f, "; {} reference records kept as this database has them, though the file differs", self.kept)?;
        }
        Ok(())
    }
}

/// A line of the rejects file: a failed row, where it was, and why it failed.
#[derive(serde::Serialize)]
struct Reject<'a> {
    line: u64,
    row: &'a Value,
    errors: Vec<Value>,
}

/// A row read from the input, or why it could not be read, with its line and what the
/// rejects file gives back of it.
type Read = (u64, Result<Value, Vec<UserError>>, Original);

/// What the rejects file gives back of a row that fails. The row as read is kept as
/// text, not as the parsed tree: the tree is dropped on the thread that read it, and
/// the writer's thread frees one string a row.
enum Original {
    /// The row as JSON text (an NDJSON line; a CSV row's cells as an object), parsed
    /// again only when the row fails.
    Json(String),
    /// A line that is not JSON, as text.
    Text(String),
    /// Nothing: a line too long to read, a CSV row of the wrong length.
    Nothing,
}

impl Original {
    fn into_value(self) -> Value {
        match self {
            Original::Json(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
            Original::Text(text) => Value::String(text),
            Original::Nothing => Value::Null,
        }
    }
}

/// A problem with a whole row (it is not JSON, it has too many cells), at its root.
fn unreadable(message: String) -> Vec<UserError> {
    vec![UserError { field: Some(Vec::new()), message, code: UserErrorCode::Invalid }]
}

/// A key the row gives twice (an NDJSON object's, a CSV header's column), at its path
/// in the row: which of the two is meant cannot be told.
fn given_twice(path: Vec<String>) -> Vec<UserError> {
    let message = format!("`{}` is given twice in the row", path.join("."));
    // Under `input`, as the reader's problems are until the import puts them at the row.
    let field = std::iter::once("input".to_owned()).chain(path).collect();
    vec![UserError { field: Some(field), message, code: UserErrorCode::Invalid }]
}

/// The byte order mark some editors start a UTF-8 file with: no part of the first row.
pub(super) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An NDJSON line's row, or why it is none: not UTF-8 (rather than a row changed by
/// replacement characters), a key given twice, not JSON.
fn ndjson_row(line: u64, bytes: &[u8]) -> Option<Read> {
    let bytes = if line == 1 { bytes.strip_prefix(BOM).unwrap_or(bytes) } else { bytes };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim(),
        Err(error) => {
            let message = format!("the line is not UTF-8 (byte {})", error.valid_up_to() + 1);
            return Some((line, Err(unreadable(message)), Original::Nothing));
        }
    };
    if text.is_empty() {
        return None;
    }
    Some(match json::parse(text) {
        Ok(row) => (line, Ok(row), Original::Json(text.to_owned())),
        Err(NotARow::Duplicate(path)) => (line, Err(given_twice(path)), Original::Text(text.to_owned())),
        Err(NotARow::Syntax(error)) => {
            let error = unreadable(format!("the line is not JSON: {error}"));
            (line, Err(error), Original::Text(text.to_owned()))
        }
    })
}

/// A CSV header's columns, checked.
struct Header {
    columns: Vec<String>,
    /// A column the header names twice: every row is refused, naming it.
    twice: Option<String>,
    /// The columns the import does not know, until the first batch takes them.
    unknown: UnknownKeys,
}

/// A CSV header's columns: one the import reads at least (else nothing could be
/// imported, and every row would fail alike), and those it does not know.
fn csv_header(columns: Vec<String>) -> std::io::Result<Header> {
    let mut unknown = UnknownKeys::default();
    unknown.note(&columns);
    if !columns.is_empty() && !columns.iter().any(|column| known::reads(column)) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the header names no column the import reads ({unknown}); columns are the \
                 snake_case fields of a profile, such as email, first_name, mobile_phone"
            ),
        ));
    }
    let twice = columns.iter().enumerate().find(|(i, c)| columns[..*i].contains(c)).map(|(_, c)| c.clone());
    Ok(Header { columns, twice, unknown })
}

/// The rows of an input, one at a time, with their line numbers.
enum Rows<R: BufRead> {
    /// `rows`: whether a row was read yet (the first tells a JSON document).
    Ndjson {
        input: R,
        line: u64,
        rows: bool,
    },
    // Boxed: `csv-core`'s reader holds its tables inline.
    Csv {
        records: Box<records::Records<R>>,
        header: Box<Header>,
    },
}

impl<R: BufRead> Rows<R> {
    fn new(format: Format, input: R) -> std::io::Result<Self> {
        Ok(match format {
            Format::Ndjson => Rows::Ndjson { input, line: 0, rows: false },
            Format::Csv => {
                let mut records = Box::new(records::Records::new(input, MAX_LINE));
                let columns = match records.next()? {
                    None => Vec::new(),
                    Some((_, Record::Cells(columns))) => columns,
                    Some((_, Record::TooLong)) => {
                        return Err(unreadable_header(&format!("is longer than {MAX_LINE} bytes")));
                    }
                    Some((_, Record::NotUtf8)) => return Err(unreadable_header("is not UTF-8")),
                };
                Rows::Csv { records, header: Box::new(csv_header(columns)?) }
            }
        })
    }

    /// The unknown keys of a batch of `rows`: each NDJSON row's own; a CSV's are its
    /// header's, told once, with the first batch.
    fn unknown_keys<E>(&mut self, rows: &[Result<Value, E>]) -> UnknownKeys {
        let Rows::Csv { header, .. } = self else {
            let mut unknown = UnknownKeys::default();
            rows.iter().flatten().filter_map(Value::as_object).for_each(|row| unknown.note(row.keys()));
            return unknown;
        };
        std::mem::take(&mut header.unknown)
    }

    /// The next row; `None` at the end; an error when the input cannot be read.
    fn next(&mut self) -> std::io::Result<Option<Read>> {
        match self {
            Rows::Ndjson { input, line, rows } => loop {
                let mut buffer = Vec::new();
                let read = input.by_ref().take(MAX_LINE as u64 + 1).read_until(b'\n', &mut buffer)?;
                if read == 0 {
                    return Ok(None);
                }
                *line += 1;
                if buffer.len() > MAX_LINE && buffer.last() != Some(&b'\n') {
                    // Skip the rest of the line.
                    let mut rest = Vec::new();
                    while input.by_ref().take(MAX_LINE as u64).read_until(b'\n', &mut rest)? > 0 {
                        if rest.last() == Some(&b'\n') {
                            break;
                        }
                        rest.clear();
                    }
                    let message = format!("the line is longer than {MAX_LINE} bytes");
                    *rows = true;
                    return Ok(Some((*line, Err(unreadable(message)), Original::Nothing)));
                }
                if !*rows && let Some(document) = JsonDocument::of_first_line(&buffer) {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, document));
                }
                if let Some(row) = ndjson_row(*line, &buffer) {
                    *rows = true;
                    return Ok(Some(row));
                }
            },
            Rows::Csv { records, header } => {
                let Some((line, record)) = records.next()? else { return Ok(None) };
                let problem = |message: String| Ok(Some((line, Err(unreadable(message)), Original::Nothing)));
                let cells = match record {
                    Record::Cells(cells) => cells,
                    Record::TooLong => return problem(format!("the row is longer than {MAX_LINE} bytes")),
                    Record::NotUtf8 => return problem("the row is not UTF-8".to_owned()),
                };
                if cells.len() != header.columns.len() {
                    return problem(format!(
                        "the row has {} cells; the header has {}",
                        cells.len(),
                        header.columns.len()
                    ));
                }
                if let Some(column) = &header.twice {
                    return Ok(Some((line, Err(given_twice(vec![column.clone()])), Original::Nothing)));
                }
                // A cell the export quoted against spreadsheet formulas is read unquoted.
                let row: Map<String, Value> = header
                    .columns
                    .iter()
                    .zip(cells)
                    .filter(|(_, cell)| !cell.is_empty())
                    .map(|(name, cell)| (name.clone(), Value::String(formula::restore(&cell).to_owned())))
                    .collect();
                let text = serde_json::to_string(&row).unwrap_or_default();
                Ok(Some((line, Ok(Value::Object(row)), Original::Json(text))))
            }
        }
    }
}

/// Why a CSV's header cannot be read: the whole input cannot be.
fn unreadable_header(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("the CSV header {why}"))
}

/// A batch of an import's rows: the line of each and what a reject gives back of it,
/// and the row read and validated for writing.
struct Batch {
    lines: Vec<(u64, Original)>,
    prepared: Vec<Result<ImportRow, Vec<UserError>>>,
    /// The keys of its rows the import does not know.
    unknown: UnknownKeys,
}

/// Reads `input` a batch at a time and prepares each batch (parsing and validating
/// need no database) on a blocking thread, at most two batches ahead of the writer:
/// the two cores read one batch while the other is written. Ends with the input, with
/// an error when it cannot be read, or when the receiver is dropped.
fn batches(
    input: impl BufRead + Send + 'static,
    options: ImportOptions,
    clock: crate::service::clock::Clock,
) -> mpsc::Receiver<std::io::Result<Batch>> {
    let (sender, receiver) = mpsc::channel(1);
    tokio::task::spawn_blocking(move || {
        let read = |rows: &mut Rows<_>| -> std::io::Result<Option<Batch>> {
            let mut batch: Vec<Read> = Vec::with_capacity(options.batch);
            while batch.len() < options.batch.max(1) {
                match rows.next()? {
                    Some(row) => batch.push(row),
                    None => break,
                }
            }
            if batch.is_empty() {
                return Ok(None);
            }
            let (lines, batch): (Vec<_>, Vec<_>) =
                batch.into_iter().map(|(line, row, text)| ((line, text), row)).unzip();
            let unknown = rows.unknown_keys(&batch);
            let rows = batch;
            let today = clock.today();
            let prepared = read::prepare(&rows, &options.keys, options.region, today);
            Ok(Some(Batch { lines, prepared, unknown }))
        };
        let mut rows = match Rows::new(options.format, input) {
            Ok(rows) => rows,
            Err(error) => return drop(sender.blocking_send(Err(error))),
        };
        // Until the input ends, cannot be read (that error is the last item), or the
        // writer is gone.
        while let Some(batch) = read(&mut rows).transpose() {
            let unreadable = batch.is_err();
            if sender.blocking_send(batch).is_err() || unreadable {
                return;
            }
        }
    });
    receiver
}

/// Imports every row of `input` a batch at a time, writing each failed row
/// to `rejects` as `{line, row, errors}`; `progress` hears the counts after each batch.
/// Stops after the batch during which `stop` was set. An input that cannot be read is
/// an error of kind [`std::io::Error`].
pub async fn import(
    db: &Services,
    input: impl BufRead + Send + 'static,
    options: &ImportOptions,
    mut rejects: impl Write,
    mut progress: impl FnMut(&Counts),
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<Counts> {
    let mut batches = batches(input, options.clone(), db.clock.clone());
    let mut counts = Counts::default();
    let mut kept = std::collections::BTreeSet::new();
    while let Some(batch) = batches.recv().await {
        let Batch { lines, prepared, unknown } = batch?;
        counts.unknown_keys.merge(unknown);
        let (Some((first, _)), Some((last, _))) = (lines.first(), lines.last()) else { break };
        let first = *first;
        counts.line = *last;
        let imported = import::write(db, prepared, options.mode)
            .await
            .map_err(|error| anyhow::anyhow!("the import stopped in the batch from line {first}: {error:?}"))?;
        for record in imported.kept {
            if !kept.contains(&record) {
                tracing::warn!("kept {record} as this database has it: the file describes it otherwise");
                kept.insert(record);
            }
        }
        counts.kept = kept.len() as u64;
        let outcomes = imported.outcomes;
        for ((line, original), outcome) in lines.into_iter().zip(outcomes) {
            match outcome.status {
                Status::Created => counts.created += 1,
                Status::Updated => counts.updated += 1,
                Status::Unchanged => counts.unchanged += 1,
                Status::Failed => {
                    counts.failed += 1;
                    let row = original.into_value();
                    let errors: Vec<Value> = outcome.errors.iter().map(read::error_json).collect();
                    serde_json::to_writer(&mut rejects, &Reject { line, row: &row, errors })?;
                    rejects.write_all(b"\n")?;
                }
            }
        }
        rejects.flush()?;
        progress(&counts);
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
    }
    Ok(counts)
}

/// The `import` command: reads FILE (`-`: standard input), shows progress on standard
/// error (a bar on a terminal, a line every few seconds otherwise), writes failed rows
/// to `rejects` (by default FILE.rejects.ndjson; removed again when no row failed),
/// and stops after the current batch on Ctrl-C. Exits 0 when every row landed, 2 when
/// some failed, 3 when the input cannot be read, 130 when interrupted.
pub(crate) async fn import_command(
    db: &Services,
    file: &std::path::Path,
    rejects: Option<std::path::PathBuf>,
    options: &ImportOptions,
    progress_every: std::time::Duration,
) -> anyhow::Result<std::process::ExitCode> {
    use std::io::IsTerminal;
    use std::process::ExitCode;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let stdin = file == std::path::Path::new("-");
    let input: Box<dyn BufRead + Send> = if stdin {
        Box::new(std::io::BufReader::with_capacity(1 << 16, std::io::stdin()))
    } else {
        match std::fs::File::open(file) {
            Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
            Err(error) => {
                eprintln!("cannot read {}: {error}", file.display());
                return Ok(ExitCode::from(3));
            }
        }
    };
    let rejects = rejects.unwrap_or_else(|| {
        if stdin {
            "stdin.rejects.ndjson".into()
        } else {
            let mut name = file.as_os_str().to_owned();
            name.push(".rejects.ndjson");
            name.into()
        }
    });
    let out = std::fs::File::create(&rejects)
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", rejects.display()))?;

    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nStopping after this batch…");
            interrupted.store(true, Ordering::Relaxed);
        }
    });

    let started = std::time::Instant::now();
    let rate = |counts: &Counts| counts.rows() as f64 / started.elapsed().as_secs_f64().max(1e-3);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner().with_style(
            indicatif::ProgressStyle::with_template("{spinner} {pos} rows, {per_sec}, {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    });
    let mut last_line = std::time::Instant::now();
    let progress = |counts: &Counts| match &bar {
        Some(bar) => {
            bar.set_position(counts.rows());
            bar.set_message(format!("{} failed", counts.failed));
        }
        None if last_line.elapsed() >= progress_every => {
            last_line = std::time::Instant::now();
            eprintln!("{counts} ({:.0} rows/s), line {}", rate(counts), counts.line);
        }
        None => {}
    };
    let result = import(db, input, options, std::io::BufWriter::new(out), progress, &stop).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let counts = match result {
        Ok(counts) => counts,
        Err(error) if error.is::<std::io::Error>() => {
            eprintln!("cannot read {}: {error}", file.display());
            if let Some(fix) = JsonDocument::fix_for(&error, file) {
                eprintln!("jq turns it into NDJSON: {fix}");
            }
            // Refused before any row (a CSV header without a known column): no rejects.
            if std::fs::metadata(&rejects).is_ok_and(|file| file.len() == 0) {
                let _ = std::fs::remove_file(&rejects);
            }
            return Ok(ExitCode::from(3));
        }
        Err(error) => return Err(error),
    };
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("Imported {counts} in {seconds:.1} s ({:.0} rows/s).", rate(&counts));
    if !counts.unknown_keys.is_empty() {
        eprintln!("Unknown keys, ignored: {}.", counts.unknown_keys);
    }
    if counts.failed == 0 {
        // No row failed: no rejects (nor one left from an earlier run).
        let _ = std::fs::remove_file(&rejects);
    } else {
        eprintln!("Failed rows, with their line and errors: {}", rejects.display());
    }
    if stop.load(Ordering::Relaxed) {
        eprintln!("Interrupted after line {}; run the same command again to go on.", counts.line);
        return Ok(ExitCode::from(130));
    }
    Ok(if counts.failed == 0 { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

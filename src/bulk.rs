//! Bulk export (SPEC §8): every profile, streamed to a file or standard output as
//! NDJSON (the reference platform's profile JSON, one a line) or as CSV of the flat
//! fields. Pages of `service::export` are written as they are read: memory does not
//! grow with the table.

use std::io::Write;

use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use crate::service::export::{self, Export};

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
            Sink::Csv(out) => out.write_record(export::flat_cells(profile))?,
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
    db: &DatabaseConnection,
    format: Format,
    include_deleted: bool,
    page: u64,
    out: impl Write,
) -> anyhow::Result<u64> {
    let today = chrono::Utc::now().date_naive();
    let mut pages = Export::new(include_deleted, page);
    let mut sink = Sink::new(format, out)?;
    let mut written = 0u64;
    loop {
        let profiles = pages.next(db, today).await?;
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

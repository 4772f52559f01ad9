//! Bulk export (SPEC §8): every profile, streamed to a file or standard output as
//! NDJSON (the reference platform's profile JSON, one a line) or as CSV of the flat
//! fields. Pages of `service::export` are written as they are read: memory does not
//! grow with the table.

use std::io::Write;

use sea_orm::DatabaseConnection;

use crate::service::export::{self, Export};

/// The form of an exported file.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One profile JSON a line, nested relations included.
    Ndjson,
    /// A header row of snake_case names, then the flat fields of one profile a row.
    Csv,
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
    let mut pages = Export { page, ..Export::new(include_deleted) };
    let mut written = 0u64;
    match format {
        Format::Ndjson => {
            let mut out = std::io::BufWriter::new(out);
            loop {
                let profiles = pages.next(db, today).await?;
                if profiles.is_empty() {
                    break;
                }
                for profile in &profiles {
                    serde_json::to_writer(&mut out, profile)?;
                    out.write_all(b"\n")?;
                }
                written += profiles.len() as u64;
            }
            out.flush()?;
        }
        Format::Csv => {
            let mut out = csv::Writer::from_writer(out);
            out.write_record(export::FLAT)?;
            loop {
                let profiles = pages.next(db, today).await?;
                if profiles.is_empty() {
                    break;
                }
                for profile in &profiles {
                    out.write_record(export::flat_cells(profile))?;
                }
                written += profiles.len() as u64;
            }
            out.flush()?;
        }
    }
    Ok(written)
}

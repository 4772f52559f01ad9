//! CSV records read with `csv-core`, each bounded while it is read. The `csv` crate's
//! reader holds a whole record in memory however long it grows (a 50 MB cell made an
//! import peak at 357 MiB); here a record longer than the bound is read on to its end,
//! quoted line breaks included, without keeping its bytes, and reported instead, so
//! that the import refuses that row and goes on with the next.

use std::io::{self, BufRead};

use super::BOM;
use csv_core::ReadRecordResult;

/// One record of a CSV input.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// Its cells, in order.
    Cells(Vec<String>),
    /// Longer than the bound: skipped, unkept.
    TooLong,
    /// A cell that is not UTF-8.
    NotUtf8,
}

/// The records of a CSV input (RFC 4180, as the `csv` crate reads it by default: comma,
/// double quotes, any line ending; a byte order mark skipped), each at most `limit`
/// bytes of input. Memory stays under about nine times the bound (the bytes of the
/// record and the end of each field), whatever the input holds.
pub(crate) struct Records<R> {
    input: R,
    reader: csv_core::Reader,
    limit: usize,
    /// The record being read: its unquoted bytes, and where each field ends in them.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Whether the input's start has been looked at for a byte order mark.
    started: bool,
    /// Line feeds skipped between records, which the reader's line count misses.
    skipped_lines: u64,
}

impl<R: BufRead> Records<R> {
    pub(crate) fn new(input: R, limit: usize) -> Self {
        Records {
            input,
            reader: csv_core::Reader::new(),
            limit,
            bytes: vec![0; 1024],
            ends: vec![0; 32],
            started: false,
            skipped_lines: 0,
        }
    }

    /// The next record and the line it starts on; `None` at the end of the input.
    pub(crate) fn next(&mut self) -> io::Result<Option<(u64, Record)>> {
        if !self.started {
            // Skipped here rather than by `csv-core`, which takes a first read of just
            // the mark (a pipe may give one) for the end of the input.
            self.started = true;
            if self.input.fill_buf()?.starts_with(BOM) {
                self.input.consume(BOM.len());
            }
        }
        self.skip_line_ends()?;
        let line = self.reader.line() + self.skipped_lines;
        let (mut read, mut written, mut fields) = (0, 0, 0);
        let mut too_long = false;
        loop {
            // An empty buffer tells the reader that the input has ended.
            let input = self.input.fill_buf()?;
            let (result, nin, nout, nend) =
                self.reader.read_record(input, &mut self.bytes[written..], &mut self.ends[fields..]);
            self.input.consume(nin);
            (read, written, fields) = (read + nin, written + nout, fields + nend);
            too_long |= read > self.limit;
            if too_long {
                // Nothing of an overlong record is kept: its bytes are overwritten.
                (written, fields) = (0, 0);
            }
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => self.grow_bytes(),
                ReadRecordResult::OutputEndsFull => self.ends.resize(self.ends.len() * 2, 0),
                ReadRecordResult::Record if too_long => return Ok(Some((line, Record::TooLong))),
                ReadRecordResult::Record => return Ok(Some((line, self.cells(fields)))),
                ReadRecordResult::End => return Ok(None),
            }
        }
    }

    /// Skips the line ends before a record (the reader would skip them too) so that its
    /// line is where it starts: after blank lines, and after the line feed of a CRLF
    /// that the reader leaves unread when it ends a record at the carriage return.
    fn skip_line_ends(&mut self) -> io::Result<()> {
        loop {
            let input = self.input.fill_buf()?;
            let ends = input.iter().take_while(|&&byte| byte == b'\r' || byte == b'\n').count();
            self.skipped_lines += input[..ends].iter().filter(|&&byte| byte == b'\n').count() as u64;
            let rest = input.len() - ends;
            self.input.consume(ends);
            if ends == 0 || rest > 0 {
                return Ok(());
            }
        }
    }

    /// Room for more of a record: twice as much, up to one byte past the bound (a
    /// record within the bound always fits; a longer one is overwritten from the start).
    fn grow_bytes(&mut self) {
        let size = (self.bytes.len() * 2).min(self.limit + 1).max(self.bytes.len() + 1);
        self.bytes.resize(size, 0);
    }

    /// The first `fields` fields of the record just read, as text.
    fn cells(&self, fields: usize) -> Record {
        let mut start = 0;
        let mut cells = Vec::with_capacity(fields);
        for &end in &self.ends[..fields] {
            let Ok(cell) = std::str::from_utf8(&self.bytes[start..end]) else { return Record::NotUtf8 };
            cells.push(cell.to_owned());
            start = end;
        }
        Record::Cells(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8], limit: usize) -> Vec<(u64, Record)> {
        // A tiny buffer, so that records span many reads.
        let mut records = Records::new(io::BufReader::with_capacity(3, input), limit);
        std::iter::from_fn(|| records.next().expect("readable")).collect()
    }

    fn cells(cells: &[&str]) -> Record {
        Record::Cells(cells.iter().map(|&c| c.to_owned()).collect())
    }

    #[test]
    fn records_are_read_as_the_csv_crate_reads_them() {
        let input = b"\xEF\xBB\xBFa,b\r\n1,\"two, \"\"2\"\"\nlines\"\n\n3,\n";
        let records = read_all(input, 100);
        assert_eq!(
            records,
            vec![(1, cells(&["a", "b"])), (2, cells(&["1", "two, \"2\"\nlines"])), (5, cells(&["3", ""]))]
        );
    }

    #[test]
    fn a_record_over_the_bound_is_skipped_to_its_end_and_the_next_is_read() {
        let long = "x".repeat(50);
        let input = format!("a,b\n1,\"{long}\n{long}\"\n2,ok\n");
        let records = read_all(input.as_bytes(), 40);
        assert_eq!(records, vec![(1, cells(&["a", "b"])), (2, Record::TooLong), (4, cells(&["2", "ok"]))]);
    }

    #[test]
    fn a_record_at_the_bound_is_read_and_one_byte_more_is_not() {
        assert_eq!(read_all(b"abcd\n", 5), vec![(1, cells(&["abcd"]))]);
        assert_eq!(read_all(b"abcde\nf\n", 5), vec![(1, Record::TooLong), (2, cells(&["f"]))]);
    }

    #[test]
    fn a_cell_that_is_not_utf8_is_reported() {
        assert_eq!(read_all(b"a\n\xFF\nb\n", 10), vec![(1, cells(&["a"])), (2, Record::NotUtf8), (3, cells(&["b"]))]);
    }
}

//! Birthday arithmetic (birth date, next and last birthday, days to and since), with
//! "today" as a parameter.
//!
//! A birthday on 29 February falls on 28 February in years that have no 29 February.

use chrono::{Datelike, NaiveDate};

/// The full birth date, when year, month and day are known and form a real date.
pub(crate) fn birth_date(year: Option<i32>, month: Option<i32>, day: Option<i32>) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year?, u32::try_from(month?).ok()?, u32::try_from(day?).ok()?)
}

/// The birthday's date in `year`: 29 February moves to 28 February outside leap years.
/// `None` when month and day are no day of any year (e.g. 31 April).
fn in_year(year: i32, month: i32, day: i32) -> Option<NaiveDate> {
    let (month, day) = (u32::try_from(month).ok()?, u32::try_from(day).ok()?);
    // A leap year accepts every real month/day, so this rejects only impossible ones.
    NaiveDate::from_ymd_opt(2000, month, day)?;
    NaiveDate::from_ymd_opt(year, month, day).or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
}

/// The next birthday, today or later.
pub(crate) fn next_birthday(month: Option<i32>, day: Option<i32>, today: NaiveDate) -> Option<NaiveDate> {
    let (month, day) = (month?, day?);
    let this_year = in_year(today.year(), month, day)?;
    if this_year >= today { Some(this_year) } else { in_year(today.year() + 1, month, day) }
}

/// The most recent birthday, today or earlier.
pub(crate) fn last_birthday(month: Option<i32>, day: Option<i32>, today: NaiveDate) -> Option<NaiveDate> {
    let (month, day) = (month?, day?);
    let this_year = in_year(today.year(), month, day)?;
    if this_year <= today { Some(this_year) } else { in_year(today.year() - 1, month, day) }
}

/// Days from today to the next birthday (0 on the birthday).
pub(crate) fn days_until(month: Option<i32>, day: Option<i32>, today: NaiveDate) -> Option<i64> {
    next_birthday(month, day, today).map(|next| (next - today).num_days())
}

/// Days since the most recent birthday (0 on the birthday).
pub(crate) fn days_since(month: Option<i32>, day: Option<i32>, today: NaiveDate) -> Option<i64> {
    last_birthday(month, day, today).map(|last| (today - last).num_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are real")
    }

    #[test]
    fn birth_date_needs_all_three_parts_and_a_real_date() {
        assert_eq!(birth_date(Some(1989), Some(1), Some(1)), Some(date(1989, 1, 1)));
        assert_eq!(birth_date(None, Some(1), Some(1)), None);
        assert_eq!(birth_date(Some(1989), Some(2), Some(29)), None);
        assert_eq!(birth_date(Some(1988), Some(2), Some(29)), Some(date(1988, 2, 29)));
        assert_eq!(birth_date(Some(1989), Some(-1), Some(1)), None);
    }

    #[test]
    fn the_table_of_next_and_last_birthdays() {
        // (month, day, today, next, days until, last, days since)
        let cases = [
            (1, 1, date(2021, 12, 7), date(2022, 1, 1), 25, date(2021, 1, 1), 340),
            (12, 7, date(2021, 12, 7), date(2021, 12, 7), 0, date(2021, 12, 7), 0),
            (1, 1, date(2021, 12, 31), date(2022, 1, 1), 1, date(2021, 1, 1), 364),
            (12, 31, date(2022, 1, 1), date(2022, 12, 31), 364, date(2021, 12, 31), 1),
            (2, 29, date(2023, 2, 1), date(2023, 2, 28), 27, date(2022, 2, 28), 338),
            (2, 29, date(2024, 2, 1), date(2024, 2, 29), 28, date(2023, 2, 28), 338),
            (2, 29, date(2024, 2, 29), date(2024, 2, 29), 0, date(2024, 2, 29), 0),
            (2, 29, date(2023, 3, 1), date(2024, 2, 29), 365, date(2023, 2, 28), 1),
            (2, 28, date(2024, 2, 29), date(2025, 2, 28), 365, date(2024, 2, 28), 1),
        ];
        for (month, day, today, next, until, last, since) in cases {
            let case = format!("{month}/{day} seen on {today}");
            assert_eq!(next_birthday(Some(month), Some(day), today), Some(next), "next, {case}");
            assert_eq!(days_until(Some(month), Some(day), today), Some(until), "until, {case}");
            assert_eq!(last_birthday(Some(month), Some(day), today), Some(last), "last, {case}");
            assert_eq!(days_since(Some(month), Some(day), today), Some(since), "since, {case}");
        }
    }

    #[test]
    fn unknown_or_impossible_month_and_day_give_nothing() {
        let today = date(2024, 6, 1);
        assert_eq!(next_birthday(None, Some(1), today), None);
        assert_eq!(next_birthday(Some(1), None, today), None);
        assert_eq!(next_birthday(Some(4), Some(31), today), None);
        assert_eq!(next_birthday(Some(13), Some(1), today), None);
        assert_eq!(days_since(Some(2), Some(30), today), None);
    }
}

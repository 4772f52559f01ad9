//! Derived facts about the person: full name and completeness.

use chrono::NaiveDate;

/// First and last name joined by one space; either may be absent; `None` when both are.
pub(crate) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let parts: Vec<&str> = [first, last].into_iter().flatten().map(str::trim).filter(|p| !p.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// What a profile must have to count as complete.
pub(crate) struct Completeness<'a> {
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub mobile_phone: Option<&'a str>,
    pub birth_date: Option<NaiveDate>,
}

/// True when first name, last name, email, mobile phone and a full birth date are all
/// present (blank strings count as absent).
pub(crate) fn is_completed(profile: &Completeness<'_>) -> bool {
    let present = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
    present(profile.first_name)
        && present(profile.last_name)
        && present(profile.email)
        && present(profile.mobile_phone)
        && profile.birth_date.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_name_joins_what_is_there() {
        assert_eq!(full_name(Some("Example"), Some("User")).as_deref(), Some("Example User"));
        assert_eq!(full_name(Some("Example"), None).as_deref(), Some("Example"));
        assert_eq!(full_name(None, Some("User")).as_deref(), Some("User"));
        assert_eq!(full_name(None, None), None);
        assert_eq!(full_name(Some("  "), Some("")), None);
    }

    #[test]
    fn completeness_needs_every_part() {
        let complete = Completeness {
            first_name: Some("A"),
            last_name: Some("B"),
            email: Some("a@b.example"),
            mobile_phone: Some("+61404123123"),
            birth_date: NaiveDate::from_ymd_opt(1990, 1, 1),
        };
        assert!(is_completed(&complete));
        assert!(!is_completed(&Completeness { birth_date: None, ..complete }));
        assert!(!is_completed(&Completeness { email: Some(" "), ..complete }));
        assert!(!is_completed(&Completeness { mobile_phone: None, ..complete }));
        assert!(!is_completed(&Completeness { first_name: None, ..complete }));
        assert!(!is_completed(&Completeness { last_name: None, ..complete }));
    }
}

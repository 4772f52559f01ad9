//! Phone numbers: any accepted input → E.164 for storage, and the derived parts the
//! API shows (`mobilePhoneCountry`, `…National`, `…NationalPrefix`, `…E164`).

use phonenumber::{Mode, PhoneNumber, country};

/// The region national numbers are read in, e.g. `AU` (configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region(country::Id);

impl std::str::FromStr for Region {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(Region)
            .map_err(|_| format!("`{code}` is not an ISO 3166 region code such as AU or US"))
    }
}

impl Default for Region {
    fn default() -> Self {
        Region(country::Id::AU)
    }
}

/// Why a phone number was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct InvalidPhone;

/// Parses a number in E.164 or national format (read in `region`) and returns it in
/// E.164, or `InvalidPhone` when it is not a valid number.
pub(crate) fn normalize(input: &str, region: Region) -> Result<String, InvalidPhone> {
    let number = parse(input, region).ok_or(InvalidPhone)?;
    Ok(number.format().mode(Mode::E164).to_string())
}

fn parse(input: &str, region: Region) -> Option<PhoneNumber> {
    let number = phonenumber::parse(Some(region.0), input.trim()).ok()?;
    phonenumber::is_valid(&number).then_some(number)
}

/// The calling code of `region`, e.g. 61 for AU.
pub(crate) fn calling_code(region: Region) -> Option<u16> {
    phonenumber::metadata::DATABASE.by_id(region.0.as_ref()).map(|meta| meta.country_code())
}

/// The trunk prefix dialled before a national number in `region` (`0` in AU), if any.
pub(crate) fn trunk_prefix(region: Region) -> Option<String> {
    phonenumber::metadata::DATABASE.by_id(region.0.as_ref()).and_then(|meta| meta.national_prefix().map(str::to_owned))
}

/// The parts of a stored number that the API derives from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PhoneParts {
    /// Calling code, e.g. 61.
    pub country_code: u16,
    /// National significant number, e.g. `404123123`.
    pub national: String,
    /// National format with the trunk prefix, digits only, e.g. `0404123123`.
    pub national_prefix: String,
    /// E.164, e.g. `+61404123123`.
    pub e164: String,
}

/// Splits a stored (E.164) number into its parts; `None` for a number that no longer
/// parses, which the API then shows as null rather than failing the whole profile.
pub(crate) fn parts(stored: &str) -> Option<PhoneParts> {
    let number = phonenumber::parse(None, stored).ok()?;
    let national_format = number.format().mode(Mode::National).to_string();
    Some(PhoneParts {
        country_code: number.code().value(),
        national: number.national().to_string(),
        national_prefix: national_format.chars().filter(char::is_ascii_digit).collect(),
        e164: number.format().mode(Mode::E164).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn au() -> Region {
        "AU".parse().expect("AU is a region")
    }

    #[test]
    fn national_and_international_inputs_normalise_to_the_same_e164() {
        for input in ["0404123123", "0404 123 123", "+61404123123", "+61 404 123 123", " (04) 0412 3123 "] {
            assert_eq!(normalize(input, au()), Ok("+61404123123".to_owned()), "input {input:?}");
        }
    }

    #[test]
    fn national_numbers_are_read_in_the_configured_region() {
        let us: Region = "us".parse().expect("US is a region");
        assert_eq!(normalize("(201) 555-0123", us), Ok("+12015550123".to_owned()));
        assert_eq!(normalize("020 7946 0958", "GB".parse().expect("GB")), Ok("+442079460958".to_owned()));
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for input in ["", "abc", "123", "+61 4041", "0404123123999999"] {
            assert_eq!(normalize(input, au()), Err(InvalidPhone), "input {input:?}");
        }
    }

    #[test]
    fn parts_of_an_australian_mobile_match_the_reference() {
        let parts = parts("+61404123123").expect("valid number");
        assert_eq!(parts.country_code, 61);
        assert_eq!(parts.national, "404123123");
        assert_eq!(parts.national_prefix, "0404123123");
        assert_eq!(parts.e164, "+61404123123");
    }

    #[test]
    fn calling_codes_of_regions() {
        assert_eq!(calling_code(au()), Some(61));
        assert_eq!(calling_code("NZ".parse().expect("NZ")), Some(64));
    }

    #[test]
    fn unknown_region_codes_are_refused() {
        assert!("XX".parse::<Region>().is_err());
        assert!("".parse::<Region>().is_err());
    }
}

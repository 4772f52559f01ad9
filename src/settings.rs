//! Where settings' defaults come from: each is declared once, in its flag's
//! `#[arg(default_value…)]`, and a settings struct's `Default` is what an empty command
//! line gives it. A leaf: `config`, `http`, `graphql`, `service` and `db` use it.

/// What an empty command line gives the flags of `T`, whatever the environment holds
/// (a `Default` must not depend on it). A default that does not parse is a bug in its
/// declaration, which the settings test finds.
#[allow(clippy::expect_used, reason = "the defaults are declared in the code; the settings test parses them")]
pub(crate) fn defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults")).mut_args(|arg| arg.env(None::<&str>));
    let matches = command.try_get_matches_from(["defaults"]).expect("the declared defaults parse");
    T::from_arg_matches(&matches).expect("the declared defaults make the settings")
}

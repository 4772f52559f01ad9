//! API tests: the real schema and router, in process, each test on its own database
//! (SQLite, or PostgreSQL when `TEST_DATABASE_URL` is set).

// The whole expected profile is one `json!` literal.
#![recursion_limit = "256"]
// Tests and their helpers `expect` what they set up.
#![allow(clippy::expect_used)]

mod finding;
mod fixtures;
mod helpers;

mod batching;
mod binary;
mod cli;
mod concurrency;
mod database_loss;
mod duplicates;
mod email_key;
mod events;
mod evolution;
mod export;
mod hostile;
mod http;
mod import;
mod import_rows;
mod layers;
mod merge;
mod nodes;
mod operations;
mod owned_write;
mod persisted;
mod process;
mod profile_read;
mod profile_write;
mod profiles_page;
mod purge;
mod races;
mod readme;
mod reference_keys;
mod reference_write;
mod robustness;
mod schema;
mod security;
mod settings;
mod shutdown;
mod startup;
mod validation;
mod webhooks;
mod websockets;
mod write_cost;
mod write_seam;

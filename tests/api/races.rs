//! Races with deletes are row outcomes, never request errors: an import whose profiles
//! are deleted or purged under it (through GraphQL and through the binary), and labels
//! added while they are deleted, which take their locks in one order.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};
use serde_json::{Value, json};

use crate::helpers::{Options, TestApp, error_codes, on_postgres, user_errors};
use profiles_gateway::db::PoolSettings;

const IMPORT: &str = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows, mode: UPDATE_ONLY, matchOn: [EMAIL]) {
    results { index status userErrors { field code } } updated failed } }";
const DELETE: &str = "mutation($id: UUID!) { deleteProfile(id: $id) { userErrors { code } } }";
const PURGE: &str = "mutation($id: UUID!) { purgeProfile(id: $id) { userErrors { code } } }";

/// Profiles the race works on: how many, and how many of them go while it runs.
const PROFILES: usize = 100;
const GONE: usize = 10;

fn email(round: usize, n: usize) -> String {
    format!("race{round}-{n}@example.com")
}

/// `PROFILES` profiles for round `round`, changed once since they were created, so
/// that no created event waits for its context (a delete would settle it, and wait for
/// the import that settled it first). Their ids, in row order.
async fn profiles(app: &TestApp, round: usize) -> Vec<String> {
    let rows: Vec<Value> = (0..PROFILES).map(|n| json!({ "email": email(round, n), "first_name": "New" })).collect();
    let create = "mutation($rows: [JSON!]!) { importProfiles(rows: $rows) { results { profile { id } } created } }";
    let created = app.data(create, json!({ "rows": rows })).await["importProfiles"].clone();
    assert_eq!(created["created"], PROFILES, "{created}");
    let updated = app.data(IMPORT, json!({ "rows": rows_named(round, "Before") })).await;
    assert_eq!(updated["importProfiles"]["updated"], PROFILES, "{updated}");
    let results = created["results"].as_array().expect("results");
    results.iter().map(|r| r["profile"]["id"].as_str().expect("an id").to_owned()).collect()
}

/// The import's rows: every profile of the round, renamed `name`.
fn rows_named(round: usize, name: &str) -> Vec<Value> {
    (0..PROFILES).map(|n| json!({ "email": email(round, n), "first_name": name })).collect()
}

/// On PostgreSQL, a transaction that holds the row of profile `id` until it ends: a
/// write that reaches that row waits there.
pub(crate) async fn hold(app: &TestApp, id: &str) -> DatabaseTransaction {
    let id: uuid::Uuid = id.parse().expect("a uuid");
    hold_row(app, "SELECT id FROM profile WHERE id = $1 FOR UPDATE", id.into()).await
}

/// On PostgreSQL, a transaction holding the row `lock` (a `SELECT … FOR UPDATE` of one
/// row, `$1` bound to `value`) until it ends.
async fn hold_row(app: &TestApp, lock: &str, value: sea_orm::Value) -> DatabaseTransaction {
    let txn = app.db.begin().await.expect("a transaction");
    let lock = Statement::from_sql_and_values(sea_orm::DatabaseBackend::Postgres, lock, [value]);
    txn.execute_raw(lock).await.expect("the row locked");
    txn
}

/// Waits (up to 30 s) until a session of this test's database waits for a lock: told
/// by PostgreSQL, not guessed with a sleep.
pub(crate) async fn until_a_write_waits(app: &TestApp) {
    until_waiting(app, 1).await;
}

/// Waits (up to 30 s) until `sessions` sessions of this test's database wait for a lock.
async fn until_waiting(app: &TestApp, sessions: i64) {
    let sql = "SELECT count(*) AS n FROM pg_stat_activity \
               WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    // PostgreSQL tells no one when a session starts to wait: look every few milliseconds.
    let mut look = tokio::time::interval(Duration::from_millis(5));
    loop {
        look.tick().await;
        let statement = Statement::from_string(sea_orm::DatabaseBackend::Postgres, sql);
        let row = app.db.query_one_raw(statement).await.expect("pg_stat_activity").expect("a count");
        if row.try_get::<i64>("", "n").expect("a count") >= sessions {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{sessions} writes did not come to wait for the held row");
    }
}

/// Which row of `ids` the test holds (the profile with the lowest id, which an import
/// locks first), and the `GONE` rows whose profiles go while the import waits for it.
fn held_and_gone(ids: &[String]) -> (usize, Vec<usize>) {
    let held = (0..ids.len()).min_by_key(|&n| ids[n].parse::<uuid::Uuid>().expect("a uuid")).expect("profiles");
    (held, (0..ids.len()).filter(|&n| n != held).take(GONE).collect())
}

/// Deletes the first half of `ids` and purges the rest, each by its mutation; every
/// one succeeds.
async fn delete_and_purge(app: &TestApp, ids: &[&String]) {
    for (n, id) in ids.iter().enumerate() {
        let (field, mutation) = if n < ids.len() / 2 { ("deleteProfile", DELETE) } else { ("purgeProfile", PURGE) };
        assert_eq!(user_errors(&app.mutate(field, mutation, json!({ "id": id })).await), vec![], "{field} {id}");
    }
}

/// An import of `PROFILES` updates while `GONE` of its profiles are deleted or purged
/// under it gives each row an outcome and the request no error, round after round: the
/// gone profiles' rows are NOT_FOUND (or UPDATED, when the import reached them first),
/// every other row is UPDATED. On PostgreSQL the import is held at its first profile
/// (the lowest id, locked by the test) until the deletes have committed, so every round has
/// them land between the import's read and its writes; SQLite serialises writers, so
/// there the deletes run beside the import and land before or after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_racing_deletes_and_purges_gives_row_outcomes_not_an_error() {
    let app = Arc::new(TestApp::spawn().await);
    for round in 0..5 {
        let ids = profiles(&app, round).await;
        let (first, gone_rows) = held_and_gone(&ids);
        let gone: Vec<&String> = gone_rows.iter().map(|&n| &ids[n]).collect();
        let held = if on_postgres() { Some(hold(&app, &ids[first]).await) } else { None };
        let import = {
            let app = app.clone();
            tokio::spawn(async move { app.graphql(IMPORT, json!({ "rows": rows_named(round, "After") })).await })
        };
        if let Some(held) = held {
            until_a_write_waits(&app).await;
            delete_and_purge(&app, &gone).await;
            held.rollback().await.expect("the row let go");
        } else {
            delete_and_purge(&app, &gone).await;
        }
        let response = import.await.expect("the import finishes");
        assert_eq!(error_codes(&response), Vec::<String>::new(), "round {round}: {response}");
        let results = response["data"]["importProfiles"]["results"].as_array().expect("results").clone();
        for (n, result) in results.iter().enumerate() {
            let not_found =
                result["status"] == "FAILED" && user_errors(result).iter().all(|(_, code)| code == "NOT_FOUND");
            if gone_rows.contains(&n) {
                let reached_first = result["status"] == "UPDATED" && !on_postgres();
                assert!(not_found || reached_first, "round {round}, row {n}: {result}");
            } else {
                assert_eq!(result["status"], "UPDATED", "round {round}, row {n}: {result}");
            }
        }
        if on_postgres() {
            assert_eq!(response["data"]["importProfiles"]["failed"], GONE, "round {round}: every gone row failed");
        }
    }
}

/// The binary's import racing deletes and purges: the gone rows are rejected
/// NOT_FOUND, the import goes on and exits 2 (some rows failed), never 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_import_command_racing_deletes_and_purges_rejects_those_rows_and_exits_2() {
    let app = TestApp::spawn().await;
    let ids = profiles(&app, 0).await;
    let (first, gone_rows) = held_and_gone(&ids);
    let gone: Vec<&String> = gone_rows.iter().map(|&n| &ids[n]).collect();
    let folder = tempfile::tempdir().expect("a folder");
    let file = folder.path().join("rows.ndjson");
    let lines: String = rows_named(0, "After").iter().map(|row| format!("{row}\n")).collect();
    std::fs::write(&file, lines).expect("written");
    let path = file.to_str().expect("a path");
    let held = if on_postgres() { Some(hold(&app, &ids[first]).await) } else { None };
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_profiles-gateway"));
    command.args(["import", path, "--match", "email", "--mode", "update-only"]);
    command.env("DATABASE_URL", &app.url).env("RUST_LOG", "warn");
    command.stderr(std::process::Stdio::piped());
    let child = if let Some(held) = held {
        let child = command.spawn().expect("the binary starts");
        until_a_write_waits(&app).await;
        delete_and_purge(&app, &gone).await;
        held.rollback().await.expect("the row let go");
        child
    } else {
        // SQLite serialises writers: the deletes land before the import reads.
        delete_and_purge(&app, &gone).await;
        command.spawn().expect("the binary starts")
    };
    let run = tokio::task::spawn_blocking(move || child.wait_with_output()).await.expect("joined").expect("it ends");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let summary = format!("{PROFILES} rows: 0 created, {} updated, 0 unchanged, {GONE} failed", PROFILES - GONE);
    assert!(stderr.contains(&summary), "{stderr}");
    let rejects = std::fs::read_to_string(folder.path().join("rows.ndjson.rejects.ndjson")).expect("a rejects file");
    let rejected: Vec<Value> = rejects.lines().map(|line| serde_json::from_str(line).expect("JSON")).collect();
    assert_eq!(rejected.len(), GONE);
    for (&n, reject) in gone_rows.iter().zip(&rejected) {
        assert_eq!(reject["line"], json!(n + 1), "{reject}");
        assert_eq!(reject["errors"][0]["code"], "NOT_FOUND", "{reject}");
    }
}

/// A pool with a connection for each write of a round, the held row and the test's
/// own look at `pg_stat_activity` (the tests' default is 5).
fn room_for_all() -> Options {
    Options { pool: PoolSettings { max_connections: 10, ..PoolSettings::default() }, ..Options::default() }
}

/// Sends `query` with `variables` on a task of its own.
pub(crate) fn spawn(app: &Arc<TestApp>, query: &'static str, variables: Value) -> tokio::task::JoinHandle<Value> {
    let app = app.clone();
    tokio::spawn(async move { app.graphql(query, variables).await })
}

/// A label (tag or status) deleted while four of its holders are given it again, round
/// after round: `deleteLabel` and the `addLabels` race. On PostgreSQL the test holds the
/// label's row until the delete and then the four adds wait for it, so that the delete
/// goes first and needs the profiles the adds are about; a write that locked its
/// profile before the label would deadlock there (CONFLICT). SQLite runs them at once.
/// Round `n`'s label is `race{n}` (`$h`). Returns each round's payloads: the delete's
/// first, then the adds'.
async fn label_deleted_while_added(
    app: &Arc<TestApp>,
    create: &'static str,
    delete: &'static str,
    add: &'static str,
    table: &str,
) -> Vec<Vec<Value>> {
    let mut profiles = Vec::new();
    for n in 0..4 {
        let made = app.data(crate::validation::CREATE, json!({ "input": { "firstName": format!("L{n}") } })).await;
        profiles.push(made["createProfile"]["profile"]["id"].clone());
    }
    let mut rounds = Vec::new();
    for round in 0..5 {
        let handle = format!("race{round}");
        let made = app.data(create, json!({ "h": handle })).await;
        let label = made.as_object().and_then(|d| d.values().next()).expect("a payload");
        let label = label.as_object().and_then(|p| p.values().find(|v| v.get("id").is_some())).expect("the label");
        let label = label["id"].as_str().expect("an id").to_owned();
        for profile in &profiles {
            let response = app.graphql(add, json!({ "id": profile, "h": handle })).await;
            assert_eq!(error_codes(&response), Vec::<String>::new(), "{response}");
        }
        let held = if on_postgres() {
            let id: i32 = label.parse().expect("an integer id");
            let lock = format!("SELECT id FROM {table} WHERE id = $1 FOR UPDATE");
            Some(hold_row(app, &lock, id.into()).await)
        } else {
            None
        };
        let deleting = spawn(app, delete, json!({ "id": label }));
        if on_postgres() {
            until_waiting(app, 1).await;
        }
        let adding: Vec<_> =
            profiles.iter().map(|profile| spawn(app, add, json!({ "id": profile, "h": handle }))).collect();
        if let Some(held) = held {
            until_waiting(app, 1 + adding.len() as i64).await;
            held.rollback().await.expect("the row let go");
        }
        let mut payloads = Vec::new();
        for task in std::iter::once(deleting).chain(adding) {
            let response = task.await.expect("every write completes");
            assert_eq!(error_codes(&response), Vec::<String>::new(), "round {round}: {response}");
            payloads.push(response["data"].as_object().and_then(|d| d.values().next()).expect("a payload").clone());
        }
        rounds.push(payloads);
    }
    rounds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adding_tags_while_the_tag_is_deleted_never_deadlocks() {
    let app = Arc::new(TestApp::spawn_with(room_for_all()).await);
    let create = "mutation($h: String!) { createTag(input: { handle: $h, name: \"Race\" }) { tag { id } } }";
    let delete = "mutation($id: ID!) { deleteTag(id: $id) { userErrors { field code } } }";
    let add = "mutation($id: UUID!, $h: String!) { addTags(profileId: $id, handles: [$h, \"other\"]) {
        profile { tags { handle } } userErrors { field code } } }";
    for (round, payloads) in label_deleted_while_added(&app, create, delete, add, "tag").await.iter().enumerate() {
        for payload in payloads {
            assert_eq!(user_errors(payload), vec![], "round {round}: {payload}");
        }
        // The delete went first on PostgreSQL: every add made the tag anew and holds it.
        if on_postgres() {
            for add in &payloads[1..] {
                let tags = add["profile"]["tags"].as_array().expect("tags");
                let handles: Vec<&str> = tags.iter().filter_map(|t| t["handle"].as_str()).collect();
                assert!(handles.contains(&format!("race{round}").as_str()), "round {round}: {add}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn adding_statuses_while_the_status_is_deleted_never_deadlocks() {
    let app = Arc::new(TestApp::spawn_with(room_for_all()).await);
    let create = "mutation($h: String!) { createStatus(input: { handle: $h, name: \"Racing\" }) { status { id } } }";
    let delete = "mutation($id: ID!) { deleteStatus(id: $id) { userErrors { field code } } }";
    let add = "mutation($id: UUID!, $h: String!) { addStatuses(profileId: $id, handles: [$h]) {
        profile { statuses { handle } } userErrors { field code } } }";
    let gone = vec![("handles.0".to_owned(), "NOT_FOUND".to_owned())];
    for (round, payloads) in label_deleted_while_added(&app, create, delete, add, "status").await.iter().enumerate() {
        assert_eq!(user_errors(&payloads[0]), vec![], "round {round}: the delete");
        for add in &payloads[1..] {
            let errors = user_errors(add);
            // The delete went first on PostgreSQL: the status is gone for every add.
            let expected = errors.is_empty() && !on_postgres() || errors == gone;
            assert!(expected, "round {round}: {add}");
        }
    }
}

/// An address deleted while it is being updated: the update, which found it and then
/// waited for its profile, is NOT_FOUND, not an internal error. On PostgreSQL the test
/// holds the profile and deletes the address in that hold, as `deleteAddress` would,
/// while the update waits; on SQLite the delete goes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_address_updated_while_it_is_deleted_is_not_found() {
    let app = Arc::new(TestApp::spawn().await);
    let made = app
        .data(
            crate::validation::CREATE,
            json!({ "input": { "firstName": "A", "addresses": [
        { "addressLine1": "1 A St", "city": "Perth", "postcode": "6000", "country": "Australia" }] } }),
        )
        .await;
    let profile = made["createProfile"]["profile"]["id"].as_str().expect("an id").to_owned();
    let read = app.data("query($id: UUID!) { profile(id: $id) { addresses { id } } }", json!({ "id": profile })).await;
    let address = read["profile"]["addresses"][0]["id"].as_str().expect("an address").to_owned();
    let update = "mutation($id: ID!) { updateAddress(id: $id, input: { city: \"Broome\" }) {
        address { city } userErrors { field code } } }";
    let response = if on_postgres() {
        let held = hold(&app, &profile).await;
        let updating = spawn(&app, update, json!({ "id": address }));
        until_a_write_waits(&app).await;
        let delete = Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "DELETE FROM address WHERE id = $1",
            [address.parse::<i32>().expect("an integer id").into()],
        );
        held.execute_raw(delete).await.expect("deleted");
        held.commit().await.expect("committed");
        updating.await.expect("the update completes")
    } else {
        let delete = "mutation($id: ID!) { deleteAddress(id: $id) { userErrors { code } } }";
        assert_eq!(user_errors(&app.mutate("deleteAddress", delete, json!({ "id": address })).await), vec![]);
        app.graphql(update, json!({ "id": address })).await
    };
    assert_eq!(error_codes(&response), Vec::<String>::new(), "{response}");
    let payload = &response["data"]["updateAddress"];
    assert_eq!(user_errors(payload), vec![("id".to_owned(), "NOT_FOUND".to_owned())], "{payload}");
}

/// An import that gives profiles a tag while the tag is deleted: no CONFLICT, every row
/// UPDATED. On PostgreSQL the test holds the tag's row until the delete and then the
/// import wait for it, so that the delete goes first and needs the profiles the import
/// updates: an import that locked a profile before the tag would deadlock there.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_import_giving_a_tag_while_it_is_deleted_never_deadlocks() {
    let app = Arc::new(TestApp::spawn().await);
    let made =
        app.data("mutation { createTag(input: { handle: \"race\", name: \"Race\" }) { tag { id } } }", json!({})).await;
    let tag = made["createTag"]["tag"]["id"].as_str().expect("an id").to_owned();
    let emails: Vec<String> = (0..4).map(|n| format!("tagged{n}@example.com")).collect();
    for email in &emails {
        let input = json!({ "input": { "email": email, "tags": ["race"] } });
        assert_eq!(user_errors(&app.mutate("createProfile", crate::validation::CREATE, input).await), vec![]);
    }
    let rows: Vec<Value> = emails.iter().map(|email| json!({ "email": email, "tags": ["race", "other"] })).collect();
    let held = if on_postgres() {
        let id: i32 = tag.parse().expect("an integer id");
        Some(hold_row(&app, "SELECT id FROM tag WHERE id = $1 FOR UPDATE", id.into()).await)
    } else {
        None
    };
    let deleting =
        spawn(&app, "mutation($id: ID!) { deleteTag(id: $id) { userErrors { field code } } }", json!({ "id": tag }));
    if on_postgres() {
        until_waiting(&app, 1).await;
    }
    let importing = spawn(&app, IMPORT, json!({ "rows": rows }));
    if let Some(held) = held {
        until_waiting(&app, 2).await;
        held.rollback().await.expect("the row let go");
    }
    let deleted = deleting.await.expect("the delete completes");
    let imported = importing.await.expect("the import completes");
    for response in [&deleted, &imported] {
        assert_eq!(error_codes(response), Vec::<String>::new(), "{response}");
    }
    assert_eq!(user_errors(&deleted["data"]["deleteTag"]), vec![]);
    assert_eq!(imported["data"]["importProfiles"]["updated"], 4, "{imported}");
    let read = app.data("{ profiles { nodes { tags { handle } } } }", json!({})).await;
    for profile in read["profiles"]["nodes"].as_array().expect("profiles") {
        let tags = profile["tags"].as_array().expect("tags");
        let handles: Vec<&str> = tags.iter().filter_map(|t| t["handle"].as_str()).collect();
        // The delete went first on PostgreSQL, and the import made the tag anew; on
        // SQLite either may have gone first.
        assert!(handles.contains(&"other") && (handles.contains(&"race") || !on_postgres()), "{read}");
    }
}

/// A tier renamed while four of its holders are given it again: the rename locks the
/// tier, then its profiles; `updateProfile` locks the tier it names before its profile,
/// so the two cannot wait for each other (a profile locked first would deadlock:
/// CONFLICT). On PostgreSQL the test holds the tier's row until the rename and then the
/// four updates wait for it, so the rename goes first and the updates find the old
/// handle gone (NOT_FOUND at `tierHandle`); SQLite runs them one after another.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_profile_given_a_tier_while_it_is_renamed_never_deadlocks() {
    let app = Arc::new(TestApp::spawn_with(room_for_all()).await);
    let create = "mutation { createTier(input: { handle: \"race\", name: \"Race\", rank: 1 }) { tier { id } } }";
    let tier = app.data(create, json!({})).await["createTier"]["tier"]["id"].as_str().expect("an id").to_owned();
    let update = "mutation($id: UUID!) { updateProfile(id: $id, input: { tierHandle: \"race\" }) {
        profile { tierHandle } userErrors { field code } } }";
    let mut profiles = Vec::new();
    for n in 0..4 {
        let made = app.data(crate::validation::CREATE, json!({ "input": { "firstName": format!("T{n}") } })).await;
        let id = made["createProfile"]["profile"]["id"].clone();
        assert_eq!(user_errors(&app.mutate("updateProfile", update, json!({ "id": id })).await), vec![]);
        profiles.push(id);
    }
    let held = if on_postgres() {
        let id: i32 = tier.parse().expect("an integer id");
        Some(hold_row(&app, "SELECT id FROM tier WHERE id = $1 FOR UPDATE", id.into()).await)
    } else {
        None
    };
    let rename = "mutation($id: ID!) { updateTier(id: $id, input: { handle: \"renamed\" }) { userErrors { code } } }";
    let renaming = spawn(&app, rename, json!({ "id": tier }));
    if on_postgres() {
        until_waiting(&app, 1).await;
    }
    let updating: Vec<_> = profiles.iter().map(|id| spawn(&app, update, json!({ "id": id }))).collect();
    if let Some(held) = held {
        until_waiting(&app, 1 + updating.len() as i64).await;
        held.rollback().await.expect("the row let go");
    }
    let renamed = renaming.await.expect("the rename completes");
    assert_eq!(error_codes(&renamed), Vec::<String>::new(), "{renamed}");
    assert_eq!(user_errors(&renamed["data"]["updateTier"]), vec![], "{renamed}");
    let gone = vec![("input.tierHandle".to_owned(), "NOT_FOUND".to_owned())];
    for task in updating {
        let response = task.await.expect("every update completes");
        assert_eq!(error_codes(&response), Vec::<String>::new(), "{response}");
        let errors = user_errors(&response["data"]["updateProfile"]);
        // On PostgreSQL the rename went first; on SQLite the update found the tier.
        assert!(errors == gone || !on_postgres() && errors.is_empty(), "{response}");
    }
}

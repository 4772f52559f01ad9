//! Hostile input, on both databases: the defects found by attacking the service, each
//! with its regression test, then a generator (deterministic seed) that builds hostile
//! requests for every argument of every root field from introspection.
//!
//! Every answer must be clear: no 5xx, no INTERNAL_SERVER_ERROR, a code on every
//! error; a mutation that fails changes no row; the server keeps serving.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_codes, user_errors};
use crate::validation::CREATE;

/// Checks that an answer is clear; returns whether it was a clean success (no errors,
/// no userErrors anywhere in `data`).
fn clear(case: &str, status: axum::http::StatusCode, response: &Value) -> bool {
    assert!(status.as_u16() < 500, "{case}: status {status}: {response}");
    let codes = error_codes(response);
    assert!(!codes.iter().any(|c| c == "INTERNAL_SERVER_ERROR" || c == "<none>"), "{case}: {response}");
    let user_errors = response["data"]
        .as_object()
        .into_iter()
        .flat_map(|data| data.values())
        .any(|payload| payload["userErrors"].as_array().is_some_and(|errors| !errors.is_empty()));
    codes.is_empty() && !user_errors
}

async fn send(app: &TestApp, query: &str, variables: Value) -> (axum::http::StatusCode, Value) {
    app.graphql_as(None, query, variables).await
}

#[tokio::test]
async fn values_of_the_wrong_type_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let cases = [
        ("query($id: UUID!) { profile(id: $id) { id } }", json!({ "id": 1 })),
        ("query($id: UUID!) { profile(id: $id) { id } }", json!({ "id": { "a": 1 } })),
        (
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { userErrors { code } } }",
            json!({ "i": "str" }),
        ),
        (
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { userErrors { code } } }",
            json!({ "i": { "firstName": 7 } }),
        ),
        (
            "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { userErrors { code } } }",
            json!({ "i": { "addresses": [{ "latitude": "north" }] } }),
        ),
        ("mutation { deleteProfile(id: 1) { userErrors { code } } }", json!({})),
        ("{ profiles(first: \"ten\") { totalCount } }", json!({})),
        ("query($n: Int) { profiles(first: $n) { totalCount } }", json!({ "n": 9_007_199_254_740_993_i64 })),
    ];
    let before = app.row_counts().await;
    for (query, variables) in cases {
        let (status, response) = send(&app, query, variables.clone()).await;
        let case = format!("{query} with {variables}");
        assert!(!clear(&case, status, &response), "{case}: {response}");
        let codes = error_codes(&response);
        assert!(!codes.is_empty() && codes.iter().all(|c| c == "BAD_USER_INPUT"), "{case}: {response}");
    }
    assert_eq!(app.row_counts().await, before);
}

#[tokio::test]
async fn control_characters_are_refused_on_write_and_on_read() {
    let app = TestApp::spawn().await;
    let before = app.row_counts().await;
    for bad in ["a\u{0}b", "bell\u{7}", "del\u{7f}b", "ne\u{85}l", "\u{1b}[31mred"] {
        let payload = app.mutate("createProfile", CREATE, json!({ "input": { "firstName": bad } })).await;
        assert_eq!(user_errors(&payload), vec![("input.firstName".to_owned(), "INVALID".to_owned())], "{bad:?}");
        let payload = app
            .mutate("createProfile", CREATE, json!({ "input": { "addresses": [{ "addressLine1": bad, "city": "c", "postcode": "1", "country": "AU" }] } }))
            .await;
        assert_eq!(
            user_errors(&payload),
            vec![("input.addresses.0.addressLine1".to_owned(), "INVALID".to_owned())],
            "{bad:?}"
        );
    }
    assert_eq!(app.row_counts().await, before, "nothing was written");
    // Tabs and line breaks are text.
    let payload =
        app.mutate("createProfile", CREATE, json!({ "input": { "company": "Tab\there", "firstName": "Ann" } })).await;
    assert_eq!(user_errors(&payload), vec![]);

    let reads = [
        ("query($s: String) { profiles(search: $s) { totalCount } }", json!({ "s": "a\u{0}b" })),
        ("query($e: String!) { profileBy(key: { email: $e }) { id } }", json!({ "e": "a\u{0}b@x.co" })),
        ("query($e: String!) { profileBy(key: { externalId: $e }) { id } }", json!({ "e": "\u{0}" })),
        (
            "query($h: String!) { profileBy(key: { identity: { handle: $h, identifier: \"x\" } }) { id } }",
            json!({ "h": "a\u{0}" }),
        ),
        ("query($f: ProfileFilter) { profiles(filter: $f) { totalCount } }", json!({ "f": { "firstName": "a\u{0}" } })),
        (
            "query($f: ProfileFilter) { profiles(filter: $f) { totalCount } }",
            json!({ "f": { "tags": ["ok", "a\u{0}"] } }),
        ),
        ("query($f: ProfileFilter) { profiles(filter: $f) { totalCount } }", json!({ "f": { "email": "\u{0}" } })),
    ];
    for (query, variables) in reads {
        let (status, response) = send(&app, query, variables.clone()).await;
        let case = format!("{query} with {variables}");
        assert!(!clear(&case, status, &response), "{case}");
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{case}: {response}");
    }
}

/// A cursor for the default order (CREATED_AT ascending) with these sort values.
fn forged_cursor(values: Value) -> String {
    let cursor = json!({ "o": "CreatedAt:Asc", "s": 0, "v": values, "id": "00000000-0000-0000-0000-000000000000" });
    URL_SAFE_NO_PAD.encode(cursor.to_string())
}

#[tokio::test]
async fn forged_cursors_are_bad_user_input() {
    let app = TestApp::spawn().await;
    // The cursor format is the real one: a page's own cursor is accepted.
    app.mutate("createProfile", CREATE, json!({ "input": { "firstName": "Ann" } })).await;
    let page = app.data("{ profiles(first: 1) { edges { cursor } } }", json!({})).await;
    let real = page["profiles"]["edges"][0]["cursor"].as_str().expect("a cursor").to_owned();
    let decoded: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&real).expect("base64")).expect("JSON");
    assert_eq!(decoded["o"], "CreatedAt:Asc", "the forged cursors below imitate {decoded}");
    let query = "query($c: String) { profiles(after: $c) { totalCount } }";
    assert_eq!(error_codes(&send(&app, query, json!({ "c": real })).await.1), Vec::<String>::new());

    for forged in [
        forged_cursor(json!(["-262143-01-01T00:00:00Z"])),
        forged_cursor(json!(["+262142-12-31T23:59:59Z"])),
        forged_cursor(json!(["0000-01-01T00:00:00Z"])),
        forged_cursor(json!(["a\u{0}b"])),
        forged_cursor(json!([1e300])),
        forged_cursor(json!([])),
        forged_cursor(json!([null, null, null])),
        URL_SAFE_NO_PAD
            .encode(json!({ "o": "CreatedAt:Asc", "s": 99_999_999_999_u64, "v": [], "id": "x" }).to_string()),
        URL_SAFE_NO_PAD.encode(
            json!({ "o": "CreatedAt:Asc", "s": -1, "v": [], "id": "00000000-0000-0000-0000-000000000000" }).to_string(),
        ),
        URL_SAFE_NO_PAD.encode("\u{0}"),
    ] {
        let (status, response) = send(&app, query, json!({ "c": forged })).await;
        assert!(!clear(&forged, status, &response));
        assert_eq!(error_codes(&response), vec!["BAD_USER_INPUT"], "{forged}: {response}");
    }
}

#[tokio::test]
async fn an_unknown_operation_name_has_a_code() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "query A { __typename }", "operationName": "B" }).to_string();
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body))
        .expect("a request");
    let (status, _, body) = app.send(request).await;
    let response: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(status, 200, "application/json answers request errors with 200");
    assert_eq!(error_codes(&response), vec!["OPERATION_RESOLUTION_FAILURE"], "{response}");
}

#[tokio::test]
async fn a_phone_search_strips_only_the_trunk_prefix() {
    let app = TestApp::spawn().await;
    for (n, phone) in ["+61404123123", "+61412000111", "+61298765432"].iter().enumerate() {
        let input = json!({ "firstName": format!("P{n}"), "mobilePhone": phone });
        assert_eq!(user_errors(&app.mutate("createProfile", CREATE, json!({ "input": input })).await), vec![]);
    }
    let count = |search: &'static str| {
        let app = &app;
        async move {
            let data =
                app.data("query($s: String) { profiles(search: $s) { totalCount } }", json!({ "s": search })).await;
            data["profiles"]["totalCount"].as_i64().expect("a count")
        }
    };
    assert_eq!(count("00").await, 0, "leading zeros are not all stripped");
    assert_eq!(count("000").await, 0);
    assert_eq!(count("04").await, 2, "national, with the trunk prefix");
    assert_eq!(count("0404").await, 1);
    assert_eq!(count("404").await, 1, "national, without it");
    assert_eq!(count("+614").await, 2, "international");
    assert_eq!(count("02").await, 1);
}

#[tokio::test]
async fn operation_names_in_metrics_are_bounded() {
    let app = TestApp::spawn().await;
    for n in 0..300 {
        let name = format!("Op{n}{}", "x".repeat(2_000));
        let body = json!({ "query": format!("query {name} {{ __typename }}") }).to_string();
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .expect("a request");
        app.send(request).await;
        // An operation name that is not in the document never becomes a label.
        let body = json!({ "query": "query A { __typename }", "operationName": format!("Unknown{n}") }).to_string();
        let request = axum::http::Request::post("/graphql")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .expect("a request");
        app.send(request).await;
    }
    let (_, _, text) = app.scrape().await;
    let mut names: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("graphql_operations_total{"))
        .filter_map(|line| line.split("operation=\"").nth(1)?.split('"').next())
        .collect();
    names.sort_unstable();
    names.dedup();
    let own = names.iter().filter(|name| name.starts_with("Op")).count();
    assert_eq!(own, 200, "the first 200 names of this app have series, the other 100 share one");
    assert!(names.contains(&"other"), "{names:?}");
    assert!(names.iter().all(|name| name.chars().count() <= 64), "labels are cut to 64 characters");
    assert!(!names.iter().any(|name| name.starts_with("Unknown")), "names of invalid requests are not labels");
    assert!(text.len() < 1_000_000, "the scrape stays small: {} bytes", text.len());
}

// ---------------------------------------------------------------------------------
// The generator.

const INTROSPECTION: &str = r#"{ __schema {
  queryType { name } mutationType { name }
  types { name kind isOneOf enumValues { name }
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }"#;

struct Model {
    types: HashMap<String, Value>,
}

impl Model {
    fn named<'a>(&self, ty: &'a Value) -> &'a str {
        match ty["kind"].as_str() {
            Some("NON_NULL" | "LIST") => self.named(&ty["ofType"]),
            _ => ty["name"].as_str().unwrap_or_default(),
        }
    }

    /// The type as SDL text, for variable definitions.
    fn sdl(ty: &Value) -> String {
        match ty["kind"].as_str() {
            Some("NON_NULL") => format!("{}!", Model::sdl(&ty["ofType"])),
            Some("LIST") => format!("[{}]", Model::sdl(&ty["ofType"])),
            _ => ty["name"].as_str().unwrap_or_default().to_owned(),
        }
    }

    /// A value that fits `ty`, pointing at the records the fixture made.
    fn valid(&self, ty: &Value, fixture: &Fixture, depth: usize) -> Value {
        match ty["kind"].as_str() {
            Some("NON_NULL") => return self.valid(&ty["ofType"], fixture, depth),
            Some("LIST") => return json!([self.valid(&ty["ofType"], fixture, depth)]),
            _ => {}
        }
        let name = self.named(ty);
        let def = &self.types[name];
        match (def["kind"].as_str().unwrap_or_default(), name) {
            (_, "UUID") => json!(fixture.profile_id),
            (_, "String") => json!("hostile"),
            (_, "Int") => json!(1),
            (_, "Float") => json!(1.5),
            (_, "Boolean") => json!(true),
            (_, "ID") => json!("1"),
            (_, "Date") => json!("2000-01-01"),
            (_, "DateTime") => json!("2000-01-01T00:00:00Z"),
            (_, "JSON") => json!({}),
            ("ENUM", _) => json!(def["enumValues"][0]["name"]),
            ("INPUT_OBJECT", _) if depth < 4 => {
                let fields = def["inputFields"].as_array().cloned().unwrap_or_default();
                let mut object = serde_json::Map::new();
                if def["isOneOf"] == json!(true) {
                    let first = &fields[0];
                    object.insert(
                        first["name"].as_str().unwrap_or_default().to_owned(),
                        self.valid(&first["type"], fixture, depth + 1),
                    );
                } else {
                    for field in fields.iter().filter(|f| f["type"]["kind"] == "NON_NULL") {
                        object.insert(
                            field["name"].as_str().unwrap_or_default().to_owned(),
                            self.valid(&field["type"], fixture, depth + 1),
                        );
                    }
                }
                Value::Object(object)
            }
            _ => Value::Null,
        }
    }

    /// Every place inside a value of type `ty` that a hostile value can go: paths of
    /// input-object fields (and first list items), with the scalar type there.
    fn places(&self, ty: &Value, path: Vec<String>, depth: usize, out: &mut Vec<(Vec<String>, String)>) {
        let name = self.named(ty).to_owned();
        out.push((path.clone(), name.clone()));
        let def = &self.types[&name];
        if def["kind"] != "INPUT_OBJECT" || depth >= 3 {
            return;
        }
        for field in def["inputFields"].as_array().into_iter().flatten() {
            let mut at = path.clone();
            at.push(field["name"].as_str().unwrap_or_default().to_owned());
            let mut inner = &field["type"];
            while inner["kind"] == "NON_NULL" {
                inner = &inner["ofType"];
            }
            if inner["kind"] == "LIST" {
                at.push("0".to_owned());
            }
            self.places(&field["type"], at, depth + 1, out);
        }
    }
}

/// Records the generated requests point at, so that they get past "not found".
struct Fixture {
    profile_id: String,
}

/// Sets `value` at `path` inside `root`, making objects and lists on the way.
fn set(root: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *root = value;
        return;
    };
    if let Ok(index) = first.parse::<usize>() {
        if !root.is_array() {
            *root = json!([]);
        }
        let items = root.as_array_mut().expect("a list");
        while items.len() <= index {
            items.push(json!({}));
        }
        set(&mut items[index], rest, value);
    } else {
        if !root.is_object() {
            *root = json!({});
        }
        set(root.as_object_mut().expect("an object").entry(first.clone()).or_insert(Value::Null), rest, value);
    }
}

/// A fingerprint of every table: row counts and the sum of profile versions, in one
/// statement, to show that a failed mutation changed nothing.
async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let counts = app.row_counts().await.into_iter().map(|(_, n)| n);
    let versions = app.data("{ profiles(first: 250, filter: { profileType: [ACTIVE, TEMPORARY, DEPENDANT, INCOMPLETE, PENDING, SYSTEM, DELETED] }) { nodes { version } } }", json!({})).await;
    let sum =
        versions["profiles"]["nodes"].as_array().into_iter().flatten().filter_map(|n| n["version"].as_i64()).sum();
    counts.chain(std::iter::once(sum)).collect()
}

#[tokio::test]
async fn generated_hostile_requests_for_every_root_field_get_clear_answers() {
    let app = TestApp::spawn().await;
    // Reference data and a profile owning one of everything, so that ids resolve.
    for (mutation, input) in [
        ("createTag", json!({ "handle": "t", "name": "T" })),
        ("createStatus", json!({ "handle": "s", "name": "S" })),
        ("createTier", json!({ "handle": "gold", "name": "Gold", "rank": 1 })),
        ("createLocation", json!({ "name": "Shop", "externalId": "L1" })),
    ] {
        let input_type = format!("{}Input", &mutation[6..]);
        let query = format!("mutation($i: {input_type}!) {{ {mutation}(input: $i) {{ userErrors {{ code }} }} }}");
        assert_eq!(user_errors(&app.mutate(mutation, &query, json!({ "i": input })).await), vec![], "{mutation}");
    }
    let created = app
        .mutate("createProfile", "mutation($i: ProfileCreateInput!) { createProfile(input: $i) { profile { id } userErrors { code field } } }", json!({ "i": {
            "firstName": "Ann", "email": "ann@example.com", "tags": ["t"], "statuses": ["s"],
            "addresses": [{ "addressLine1": "1 St", "city": "Sydney", "postcode": "2000", "country": "AU" }],
            "dates": [{ "date": "2000-01-01", "name": "Day" }],
            "identities": [{ "handle": "pos", "identifier": "1", "isPrimary": true }]
        } }))
        .await;
    assert_eq!(user_errors(&created), vec![], "{created}");
    let fixture = Fixture { profile_id: created["profile"]["id"].as_str().expect("an id").to_owned() };

    let schema = app.data(INTROSPECTION, json!({})).await;
    let model = Model {
        types: schema["__schema"]["types"]
            .as_array()
            .expect("types")
            .iter()
            .map(|t| (t["name"].as_str().unwrap_or_default().to_owned(), t.clone()))
            .collect(),
    };
    let mut roots = Vec::new();
    for (keyword, root) in [("query", "Query"), ("mutation", "Mutation")] {
        for field in model.types[root]["fields"].as_array().expect("fields") {
            roots.push((keyword, field.clone()));
        }
    }
    // Whatever removes the fixture's profile goes last.
    roots.sort_by_key(|(_, field)| {
        let name = field["name"].as_str().unwrap_or_default();
        ["delete", "purge", "restore"].iter().any(|verb| name.starts_with(verb))
    });
    assert!(roots.len() >= 40, "{} root fields", roots.len());

    let wrong_types = [
        json!(1),
        json!(-1),
        json!(1.5),
        json!("x"),
        json!(true),
        json!([]),
        json!({}),
        json!([1]),
        json!({ "a": 1 }),
        Value::Null,
    ];
    let hostile_text = [
        "a\u{0}b".to_owned(),
        "\u{0}".to_owned(),
        "bell\u{7}".to_owned(),
        "\u{202e}rtl\u{200b}".to_owned(),
        "😀 emoji".to_owned(),
        "' OR 1=1 --".to_owned(),
        "x".repeat(20_000),
        "\u{fffe}\u{ffff}".to_owned(),
    ];
    let hostile_scalars: HashMap<&str, Vec<Value>> = HashMap::from([
        ("Int", vec![json!(i32::MAX), json!(i32::MIN), json!(-1), json!(9_007_199_254_740_993_i64)]),
        ("Float", vec![json!(1e308), json!(-1e308), json!(0)]),
        ("UUID", vec![json!("not-a-uuid"), json!(""), json!("00000000-0000-0000-0000-000000000000")]),
        ("Date", vec![json!("-262143-01-01"), json!("0000-00-00"), json!("9999-12-31")]),
        (
            "DateTime",
            vec![json!("-262143-01-01T00:00:00Z"), json!("+262142-12-31T00:00:00Z"), json!("2021-02-30T00:00:00Z")],
        ),
        ("JSON", vec![json!({ "a": { "b": "\u{0}" } }), json!("\u{0}"), json!([[[[[[1]]]]]])]),
        ("ID", vec![json!("-1"), json!("99999999999999999999"), json!("a\u{0}")]),
    ]);
    let mut rng = fastrand::Rng::with_seed(20261201);
    let mut sent = 0usize;
    for (keyword, field) in &roots {
        let name = field["name"].as_str().expect("a name");
        let args = field["args"].as_array().cloned().unwrap_or_default();
        let returned = &model.types[model.named(&field["type"])];
        let has_user_errors =
            returned["fields"].as_array().is_some_and(|fields| fields.iter().any(|f| f["name"] == "userErrors"));
        let selection = match (returned["kind"].as_str(), has_user_errors) {
            (_, true) => " { __typename userErrors { field code } }",
            (Some("OBJECT" | "INTERFACE" | "UNION"), false) => " { __typename }",
            _ => "",
        };
        let definitions: Vec<String> =
            args.iter().enumerate().map(|(i, a)| format!("$a{i}: {}", Model::sdl(&a["type"]))).collect();
        let uses: Vec<String> = args
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}: $a{i}", a["name"].as_str().unwrap_or_default()))
            .collect();
        let query = if args.is_empty() {
            format!("{keyword} {{ {name}{selection} }}")
        } else {
            format!("{keyword}({}) {{ {name}({}){selection} }}", definitions.join(", "), uses.join(", "))
        };
        let base: serde_json::Map<String, Value> =
            args.iter().enumerate().map(|(i, a)| (format!("a{i}"), model.valid(&a["type"], &fixture, 0))).collect();

        let mut variants: Vec<(String, Value, bool)> = Vec::new(); // (case, variables, must fail)
        for (i, arg) in args.iter().enumerate() {
            let key = format!("a{i}");
            for wrong in &wrong_types {
                let mut variables = base.clone();
                variables.insert(key.clone(), wrong.clone());
                let arg_name = arg["name"].as_str().unwrap_or_default();
                variants.push((format!("{name}.{arg_name} = {wrong}"), Value::Object(variables), false));
            }
            let mut places = Vec::new();
            model.places(&arg["type"], Vec::new(), 0, &mut places);
            for (path, scalar) in places {
                let arg_name = arg["name"].as_str().unwrap_or_default();
                let at = format!("{name}.{arg_name}{}", path.iter().map(|p| format!(".{p}")).collect::<String>());
                let mut values: Vec<(Value, bool)> = Vec::new();
                if scalar == "String" {
                    // NUL always; two more picked by the seed.
                    values.push((json!(hostile_text[0]), true));
                    for _ in 0..2 {
                        let pick = rng.usize(1..hostile_text.len());
                        values.push((json!(hostile_text[pick]), pick == 1));
                    }
                } else if let Some(scalars) = hostile_scalars.get(scalar.as_str()) {
                    values.extend(scalars.iter().map(|v| (v.clone(), false)));
                }
                if !path.is_empty() {
                    values.extend(wrong_types.iter().take(7).map(|w| (w.clone(), false)));
                }
                for (value, must_fail) in values {
                    let mut variables = Value::Object(base.clone());
                    let mut full = vec![key.clone()];
                    full.extend(path.iter().cloned());
                    set(&mut variables, &full, value.clone());
                    let shown: String = value.to_string().chars().take(40).collect();
                    variants.push((format!("{at} = {shown}"), variables, must_fail));
                }
            }
        }
        if name == "profiles" {
            let after = args.iter().position(|a| a["name"] == "after").expect("an after argument");
            for values in [json!(["-262143-01-01T00:00:00Z"]), json!(["\u{0}"]), json!([{ "a": 1 }]), json!("x")] {
                let mut variables = base.clone();
                variables.insert(format!("a{after}"), json!(forged_cursor(values.clone())));
                variants.push((format!("profiles.after = cursor of {values}"), Value::Object(variables), true));
            }
        }
        if args.is_empty() {
            variants.push((name.to_owned(), json!({}), false));
        }

        for (case, variables, must_fail) in variants {
            let before = if *keyword == "mutation" { Some(fingerprint(&app).await) } else { None };
            let (status, response) = send(&app, &query, variables).await;
            sent += 1;
            let succeeded = clear(&case, status, &response);
            assert!(!(must_fail && succeeded), "{case}: accepted: {response}");
            if let Some(before) = before
                && !succeeded
            {
                assert_eq!(fingerprint(&app).await, before, "{case}: a failed mutation changed rows: {response}");
            }
        }
    }
    eprintln!("{sent} hostile requests over {} root fields", roots.len());
    assert!(sent > 1_000, "{sent} hostile requests");
    // The server still answers, and nothing with a NUL was stored.
    let data = app.data("{ tags { handle } statuses { handle } tiers { handle } locations { name } }", json!({})).await;
    assert!(!data.to_string().contains("\\u0000"), "{data}");
    let profiles = app
        .data("{ profiles(first: 250) { nodes { firstName lastName email company notes: occupation } } }", json!({}))
        .await;
    assert!(!profiles.to_string().contains("\\u0000"), "{profiles}");
}

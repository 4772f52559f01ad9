//! The layers hold: the code tour's arrows (app → http → graphql → service →
//! domain/entity) are the only way imports go, and no module imports one that imports
//! it back. Read from the source, as a newcomer would.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `.rs` file below `dir`.
fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules each top-level module uses (`crate::x`, `crate::{x, y}`).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("below src");
        let first = relative.components().next().expect("a component").as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let mut used = BTreeSet::new();
        for (at, _) in text.match_indices("crate::") {
            let rest = &text[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for item in group.split(',') {
                    let name: String = item.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    used.insert(name);
                }
            } else {
                used.insert(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
            }
        }
        used.retain(|name| !name.is_empty() && *name != module);
        graph.entry(module).or_default().extend(used);
    }
    graph
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    for start in graph.keys() {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&String> = graph[start].iter().collect();
        while let Some(module) = pending.pop() {
            assert!(module != start, "`{start}` reaches itself through its imports: {graph:#?}");
            if seen.insert(module.clone()) {
                pending.extend(graph.get(module).into_iter().flatten());
            }
        }
    }
}

#[test]
fn imports_go_down_the_layers() {
    let graph = imports();
    // What each layer may not use: anything above it.
    let forbidden: [(&str, &[&str]); 6] = [
        ("http", &["app", "config", "cli"]),
        ("graphql", &["app", "http", "config", "cli"]),
        ("service", &["app", "http", "graphql", "config", "cli", "telemetry"]),
        ("domain", &["app", "http", "graphql", "service", "config", "cli", "db", "telemetry", "error"]),
        ("telemetry", &["app", "http", "graphql", "service", "config", "cli"]),
        ("db", &["app", "http", "graphql", "service", "config", "cli"]),
    ];
    let mut problems = Vec::new();
    for (module, above) in forbidden {
        for used in graph.get(module).into_iter().flatten() {
            if above.contains(&used.as_str()) {
                problems.push(format!("`{module}` uses `{used}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Every `.rs` file below `src/<folder>` whose text mentions `needle`.
fn mentioning(folder: &str, needle: &str) -> Vec<String> {
    let mut files = Vec::new();
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(folder), &mut files);
    files
        .into_iter()
        .filter(|file| std::fs::read_to_string(file).is_ok_and(|text| text.contains(needle)))
        .map(|file| file.display().to_string())
        .collect()
}

#[test]
fn services_and_domain_rules_know_nothing_of_graphql() {
    for folder in ["service", "domain"] {
        assert_eq!(mentioning(folder, "async_graphql"), Vec::<String>::new(), "GraphQL in src/{folder}");
    }
}

#[test]
fn the_graphql_layer_builds_no_rows_and_no_queries() {
    for needle in ["ActiveModel", "ActiveValue", "QueryFilter", "QuerySelect", "QueryOrder", "ColumnTrait", "Condition"]
    {
        assert_eq!(mentioning("graphql", needle), Vec::<String>::new(), "`{needle}` in src/graphql");
    }
}

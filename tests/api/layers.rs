//! The layers hold: the code tour's arrows (app → http → graphql → service →
//! domain/entity) are the only way imports go, and no module imports one that imports
//! it back; nor does any file of src/ (its paths read as the structure check reads
//! them), and the service, domain, bulk and CLI code names no `crate::graphql`. Read
//! from the source, as a newcomer would.

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

/// A file's module path below the crate: `src/service/events/feed.rs` is
/// `service::events::feed`, a `mod.rs` its folder's, `lib.rs` and `main.rs` the root's.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("below src").with_extension("");
    let mut module: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    if module.last().is_some_and(|last| ["mod", "lib", "main"].contains(&last.as_str())) {
        module.pop();
    }
    module
}

/// `text` without its `#[cfg(test)] mod name { … }` blocks.
fn without_tests(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at + "#[cfg(test)]".len()..];
        let header = after.trim_start().strip_prefix("mod").filter(|h| h.starts_with(char::is_whitespace));
        let body = header.and_then(|h| {
            let h = h.trim_start();
            let name = h.len() - h.trim_start_matches(is_word).len();
            (name > 0).then(|| h[name..].trim_start()).and_then(|b| b.strip_prefix('{'))
        });
        let Some(body) = body else {
            out.push_str(&rest[..at + "#[cfg(test)]".len()]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..at]);
        let mut depth = 1;
        let end = body
            .char_indices()
            .find(|&(_, c)| {
                depth += i32::from(c == '{') - i32::from(c == '}');
                depth == 0
            })
            .map_or(body.len(), |(i, _)| i + 1);
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `::name` segments at the start of `text`, and what follows them.
fn segments(mut text: &str) -> (Vec<String>, &str) {
    let mut names = Vec::new();
    while let Some(after) = text.strip_prefix("::") {
        let name: String = after.chars().take_while(|c| is_word(*c)).collect();
        if name.is_empty() {
            break;
        }
        text = &after[name.len()..];
        names.push(name);
    }
    (names, text)
}

/// Where `needle` starts in `text` as a word of its own on the left (not after a word
/// character, nor after one of `also_not_after`).
fn word_starts<'a>(text: &'a str, needle: &'a str, also_not_after: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(needle)
        .map(|(at, _)| at)
        .filter(move |&at| text[..at].chars().next_back().is_none_or(|c| !is_word(c) && !also_not_after.contains(c)))
}

/// The module paths a file's code names: `use crate::…`, `use super::…` and
/// `use self::…` (groups too), and inline `crate::…` and `super::…` paths.
fn named_paths(module: &[String], text: &str) -> Vec<Vec<String>> {
    let parent = &module[..module.len().saturating_sub(1)];
    let mut paths = Vec::new();
    for at in word_starts(text, "use", "") {
        let after = &text[at + "use".len()..];
        let rest = after.trim_start();
        if rest.len() == after.len() {
            continue;
        }
        let Some((head, rest)) = ["crate", "super", "self"].iter().find_map(|h| rest.strip_prefix(h).map(|r| (*h, r)))
        else {
            continue;
        };
        let (names, rest) = segments(rest);
        let mut base: Vec<String> = match head {
            "super" => parent.to_vec(),
            "self" => module.to_vec(),
            _ => Vec::new(),
        };
        base.extend(names);
        if let Some(group) = rest.strip_prefix("::{") {
            // The group ends at the last `}` before the statement's `;`.
            let statement = &group[..group.find(';').unwrap_or(group.len())];
            let Some(close) = statement.rfind('}') else { continue };
            if !statement[close + 1..].trim().is_empty() || !group[statement.len()..].starts_with(';') {
                continue;
            }
            for item in top_level_items(&statement[..close]) {
                let item = item.trim();
                let item = item.split(" as ").next().unwrap_or_default();
                let item = item.split('{').next().unwrap_or_default();
                let mut path = base.clone();
                path.extend(item.split("::").filter(|s| !s.is_empty() && *s != "self").map(str::to_owned));
                paths.push(path);
            }
        } else if rest.trim_start().starts_with(';') {
            paths.push(base);
        }
    }
    for at in word_starts(text, "crate", "") {
        let (names, _) = segments(&text[at + "crate".len()..]);
        if !names.is_empty() {
            paths.push(names);
        }
    }
    for at in word_starts(text, "super", ":") {
        let (names, _) = segments(&text[at + "super".len()..]);
        if !names.is_empty() {
            paths.push(parent.iter().cloned().chain(names).collect());
        }
    }
    paths
}

/// The items of a `use` group, split at the commas outside its nested groups.
fn top_level_items(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut start = 0;
    for (at, _) in group.match_indices(',') {
        let nested = group[at..].find(['{', '}']).is_some_and(|next| group[at + next..].starts_with('}'));
        if !nested {
            items.push(&group[start..at]);
            start = at + 1;
        }
    }
    items.push(&group[start..]);
    items
}

/// The files of src/ as modules, and the modules each one's code (tests left out)
/// names, by the longest module prefix of each path; a file's edges to its own
/// ancestors (`super::` reaching a parent's items) do not count.
fn file_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let texts: Vec<(Vec<String>, String)> =
        files.iter().map(|file| (module_of(&src, file), std::fs::read_to_string(file).expect("readable"))).collect();
    let modules: BTreeSet<Vec<String>> = texts.iter().map(|(module, _)| module.clone()).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, text) in &texts {
        let code: String = without_tests(text)
            .lines()
            .map(|line| line.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let edges = graph.entry(module.clone()).or_default();
        for path in named_paths(module, &code) {
            let Some(target) = (1..=path.len()).rev().map(|n| &path[..n]).find(|prefix| modules.contains(*prefix))
            else {
                continue;
            };
            let ancestor = target.len() < module.len() && module.starts_with(target);
            if target != module.as_slice() && !ancestor {
                edges.insert(target.to_vec());
            }
        }
    }
    graph
}

/// A cycle of `graph`, from a module back to it, if there is one.
fn find_cycle(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit<'a>(
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        module: &'a Vec<String>,
        path: &mut Vec<&'a Vec<String>>,
        done: &mut BTreeSet<&'a Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            return Some(path[at..].iter().copied().chain([module]).cloned().collect());
        }
        if done.contains(module) {
            return None;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module);
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|module| visit(graph, module, &mut Vec::new(), &mut done))
}

#[test]
fn no_file_of_src_imports_one_that_imports_it_back() {
    let graph = file_graph();
    assert!(graph.len() > 50 && graph.values().map(BTreeSet::len).sum::<usize>() > 100, "the graph was read");
    if let Some(cycle) = find_cycle(&graph) {
        let names: Vec<String> = cycle.iter().map(|m| format!("crate::{}", m.join("::"))).collect();
        panic!("an import cycle between files of src/: {}", names.join(" → "));
    }
}

/// The files of src/ in `modules` (a top-level module and what is below it) whose code
/// (tests left out) names `crate::graphql`.
fn reaching_graphql(modules: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .filter(|file| module_of(&src, file).first().is_some_and(|top| modules.contains(&top.as_str())))
        .filter(|file| {
            let code = without_tests(&std::fs::read_to_string(file).expect("readable"));
            code.match_indices("crate::graphql").any(|(at, needle)| !code[at + needle.len()..].starts_with(is_word))
        })
        .map(|file| file.strip_prefix(&src).expect("below src").display().to_string())
        .collect()
}

#[test]
fn services_and_domain_rules_reach_no_graphql() {
    assert_eq!(reaching_graphql(&["service", "domain"]), Vec::<String>::new(), "`crate::graphql` in these files");
}

#[test]
fn bulk_and_cli_reach_no_graphql() {
    assert_eq!(reaching_graphql(&["bulk", "cli"]), Vec::<String>::new(), "`crate::graphql` in these files");
}

//! The schema changes without breaking its clients (`docs/schema-evolution.md`): what
//! the last release's schema (`docs/schema-previous.graphql`) offered is still in
//! `schema.graphql` unless it was deprecated there, and nothing a client reads or
//! sends changed in a way that breaks a query that used to work.
//!
//! The comparison reads both files with async-graphql's own SDL parser and names each
//! breaking change; the cases below show it naming them on small schemas.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use async_graphql::parser::Positioned;
use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeKind, TypeSystemDefinition,
};

#[test]
fn nothing_the_last_release_offered_is_gone_or_changed_without_deprecation() {
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |path: &str| {
        let text = std::fs::read_to_string(format!("{root}/{path}")).expect("the schema file is readable");
        Schema::parse(&text).unwrap_or_else(|error| panic!("{path} does not parse: {error}"))
    };
    let previous = read("docs/schema-previous.graphql");
    let current = read("schema.graphql");
    let breaks = breaking_changes(&previous, &current);
    assert!(
        breaks.is_empty(),
        "schema.graphql breaks clients of docs/schema-previous.graphql (the last release); deprecate first, \
         as docs/schema-evolution.md says:\n  {}",
        breaks.join("\n  ")
    );
}

/// A schema as far as its clients can tell: its types and root types.
#[derive(Default)]
struct Schema {
    types: BTreeMap<String, Def>,
    roots: BTreeMap<&'static str, String>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Scalar,
    Object,
    Interface,
    Union,
    Enum,
    Input,
}

/// One named type.
struct Def {
    kind: Kind,
    one_of: bool,
    /// Output fields (objects and interfaces).
    fields: BTreeMap<String, Field>,
    /// Input fields (input objects).
    inputs: BTreeMap<String, Input>,
    /// Enum values, and whether each is deprecated.
    values: BTreeMap<String, bool>,
    /// Union members, or the interfaces an object or interface implements.
    members: BTreeSet<String>,
}

struct Field {
    ty: Type,
    deprecated: bool,
    args: BTreeMap<String, Input>,
}

/// An argument or an input field.
struct Input {
    ty: Type,
    has_default: bool,
    deprecated: bool,
}

impl Input {
    /// What a client must now send.
    fn required(&self) -> bool {
        !self.ty.nullable && !self.has_default
    }

    fn of(definition: &InputValueDefinition) -> (String, Input) {
        let input = Input {
            ty: definition.ty.node.clone(),
            has_default: definition.default_value.is_some(),
            deprecated: deprecated(&definition.directives),
        };
        (definition.name.node.to_string(), input)
    }
}

fn deprecated(directives: &[Positioned<ConstDirective>]) -> bool {
    directives.iter().any(|directive| directive.node.name.node == "deprecated")
}

fn field(definition: &FieldDefinition) -> (String, Field) {
    let field = Field {
        ty: definition.ty.node.clone(),
        deprecated: deprecated(&definition.directives),
        args: definition.arguments.iter().map(|arg| Input::of(&arg.node)).collect(),
    };
    (definition.name.node.to_string(), field)
}

fn names(list: &[Positioned<async_graphql::Name>]) -> BTreeSet<String> {
    list.iter().map(|name| name.node.to_string()).collect()
}

impl Schema {
    fn parse(sdl: &str) -> Result<Schema, String> {
        let document = parse_schema(sdl).map_err(|error| error.to_string())?;
        let mut schema = Schema::default();
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(roots) => {
                    let roots = roots.node;
                    for (root, name) in
                        [("query", roots.query), ("mutation", roots.mutation), ("subscription", roots.subscription)]
                    {
                        if let Some(name) = name {
                            schema.roots.insert(root, name.node.to_string());
                        }
                    }
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let mut def = Def {
                        kind: Kind::Scalar,
                        one_of: ty.directives.iter().any(|directive| directive.node.name.node == "oneOf"),
                        fields: BTreeMap::new(),
                        inputs: BTreeMap::new(),
                        values: BTreeMap::new(),
                        members: BTreeSet::new(),
                    };
                    match &ty.kind {
                        TypeKind::Scalar => {}
                        TypeKind::Object(object) => {
                            def.kind = Kind::Object;
                            def.fields = object.fields.iter().map(|f| field(&f.node)).collect();
                            def.members = names(&object.implements);
                        }
                        TypeKind::Interface(interface) => {
                            def.kind = Kind::Interface;
                            def.fields = interface.fields.iter().map(|f| field(&f.node)).collect();
                            def.members = names(&interface.implements);
                        }
                        TypeKind::Union(union) => {
                            def.kind = Kind::Union;
                            def.members = names(&union.members);
                        }
                        TypeKind::Enum(values) => {
                            def.kind = Kind::Enum;
                            def.values = values
                                .values
                                .iter()
                                .map(|value| (value.node.value.node.to_string(), deprecated(&value.node.directives)))
                                .collect();
                        }
                        TypeKind::InputObject(input) => {
                            def.kind = Kind::Input;
                            def.inputs = input.fields.iter().map(|f| Input::of(&f.node)).collect();
                        }
                    }
                    schema.types.insert(ty.name.node.to_string(), def);
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        // An SDL without a schema block names its roots by convention.
        if schema.roots.is_empty() {
            for (root, name) in [("query", "Query"), ("mutation", "Mutation"), ("subscription", "Subscription")] {
                if schema.types.contains_key(name) {
                    schema.roots.insert(root, name.to_owned());
                }
            }
        }
        Ok(schema)
    }

    /// Where type `name` is used, and whether each use is deprecated; uses inside types
    /// `gone` leaves out (those types' own removal is judged by itself).
    fn uses(&self, name: &str, gone: impl Fn(&str) -> bool) -> Vec<(String, bool)> {
        let mut uses = Vec::new();
        for (root, ty) in &self.roots {
            if ty == name {
                uses.push((format!("the {root} root"), false));
            }
        }
        for (holder, def) in self.types.iter().filter(|(holder, _)| !gone(holder)) {
            if def.members.contains(name) {
                uses.push((holder.clone(), false));
            }
            for (field_name, field) in &def.fields {
                if base(&field.ty) == name {
                    uses.push((format!("{holder}.{field_name}"), field.deprecated));
                }
                for (arg_name, arg) in &field.args {
                    if base(&arg.ty) == name {
                        uses.push((format!("{holder}.{field_name}({arg_name})"), field.deprecated || arg.deprecated));
                    }
                }
            }
            for (input_name, input) in &def.inputs {
                if base(&input.ty) == name {
                    uses.push((format!("{holder}.{input_name}"), input.deprecated));
                }
            }
        }
        uses
    }
}

/// The named type inside any lists and non-nulls.
fn base(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name,
        BaseType::List(inner) => base(inner),
    }
}

/// Whether a client reading a field of type `old` still gets what it can handle from
/// `new`: the same type, as non-null or more so at every level.
fn output_compatible(old: &Type, new: &Type) -> bool {
    (old.nullable || !new.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(old), BaseType::Named(new)) => old == new,
            (BaseType::List(old), BaseType::List(new)) => output_compatible(old, new),
            _ => false,
        }
}

/// Whether what a client sent as `old` is still accepted as `new`: the same type,
/// as nullable or more so at every level.
fn input_compatible(old: &Type, new: &Type) -> bool {
    (new.nullable || !old.nullable)
        && match (&old.base, &new.base) {
            (BaseType::Named(old), BaseType::Named(new)) => old == new,
            (BaseType::List(old), BaseType::List(new)) => input_compatible(old, new),
            _ => false,
        }
}

/// Each change from `old` to `new` that breaks a client of `old`, named.
fn breaking_changes(old: &Schema, new: &Schema) -> Vec<String> {
    let mut breaks = Vec::new();
    for (root, name) in &old.roots {
        if new.roots.get(root) != Some(name) {
            breaks.push(format!("the {root} root type was {name}, now {:?}", new.roots.get(root)));
        }
    }
    for (name, before) in &old.types {
        let Some(after) = new.types.get(name) else {
            let live: Vec<String> = old
                .uses(name, |holder| !new.types.contains_key(holder))
                .into_iter()
                .filter(|(_, deprecated)| !deprecated)
                .map(|(place, _)| place)
                .collect();
            if !live.is_empty() {
                breaks
                    .push(format!("type {name} removed while used where nothing was deprecated: {}", live.join(", ")));
            }
            continue;
        };
        if before.kind != after.kind {
            breaks.push(format!("type {name} was {:?}, now {:?}", before.kind, after.kind));
            continue;
        }
        if after.one_of && !before.one_of {
            breaks.push(format!("input {name} became @oneOf"));
        }
        for member in before.members.difference(&after.members) {
            breaks.push(format!("{name} no longer includes {member}"));
        }
        for (field_name, was) in &before.fields {
            let place = format!("{name}.{field_name}");
            match after.fields.get(field_name) {
                None if !was.deprecated => breaks.push(format!("field {place} removed without being deprecated")),
                None => {}
                Some(now) => {
                    if !output_compatible(&was.ty, &now.ty) {
                        breaks.push(format!("field {place}: type {} became {}", was.ty, now.ty));
                    }
                    inputs(&|arg| format!("argument {place}({arg})"), &was.args, &now.args, &mut breaks);
                }
            }
        }
        inputs(&|input| format!("input field {name}.{input}"), &before.inputs, &after.inputs, &mut breaks);
        for (value, deprecated) in &before.values {
            if !after.values.contains_key(value) && !deprecated {
                breaks.push(format!("enum value {name}.{value} removed without being deprecated"));
            }
        }
    }
    breaks
}

/// The breaking changes among one field's arguments or one input's fields.
fn inputs(
    place: &dyn Fn(&str) -> String,
    before: &BTreeMap<String, Input>,
    after: &BTreeMap<String, Input>,
    breaks: &mut Vec<String>,
) {
    for (name, was) in before {
        match after.get(name) {
            None if !was.deprecated => breaks.push(format!("{} removed without being deprecated", place(name))),
            None => {}
            Some(now) if now.required() && !was.required() => {
                breaks.push(format!("{} became required ({}, no default)", place(name), now.ty));
            }
            Some(now) if !input_compatible(&was.ty, &now.ty) => {
                breaks.push(format!("{}: type {} became {}", place(name), was.ty, now.ty));
            }
            Some(_) => {}
        }
    }
    for (name, now) in after.iter().filter(|(name, _)| !before.contains_key(*name)) {
        if now.required() {
            breaks.push(format!("{} is new and required ({}, no default)", place(name), now.ty));
        }
    }
}

/// A case of the comparison: two small schemas and what it must name.
struct Case {
    what: &'static str,
    old: &'static str,
    new: &'static str,
    named: &'static [&'static str],
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:\n--- old\n{}\n--- new\n{}", self.what, self.old, self.new)
    }
}

fn check(cases: &[Case]) {
    for case in cases {
        let old = Schema::parse(case.old).unwrap_or_else(|error| panic!("{case}\nold does not parse: {error}"));
        let new = Schema::parse(case.new).unwrap_or_else(|error| panic!("{case}\nnew does not parse: {error}"));
        let breaks = breaking_changes(&old, &new);
        assert_eq!(breaks.len(), case.named.len(), "{case}\nnamed: {breaks:#?}");
        for (said, expected) in breaks.iter().zip(case.named) {
            assert!(said.contains(expected), "{case}\nnamed {said:?}, expected it to say {expected:?}");
        }
    }
}

#[test]
fn removing_what_was_not_deprecated_is_named() {
    check(&[
        Case {
            what: "a removed field",
            old: "type Query { a: Int b: String }",
            new: "type Query { a: Int }",
            named: &["field Query.b removed without being deprecated"],
        },
        Case {
            what: "a removed argument",
            old: "type Query { a(x: Int, y: Int): Int }",
            new: "type Query { a(x: Int): Int }",
            named: &["argument Query.a(y) removed without being deprecated"],
        },
        Case {
            what: "a removed input field",
            old: "type Query { a(i: I): Int } input I { x: Int y: Int }",
            new: "type Query { a(i: I): Int } input I { x: Int }",
            named: &["input field I.y removed without being deprecated"],
        },
        Case {
            what: "a removed enum value",
            old: "type Query { a: E } enum E { ONE TWO }",
            new: "type Query { a: E } enum E { ONE }",
            named: &["enum value E.TWO removed without being deprecated"],
        },
        Case {
            what: "a removed type still used by a field that was not deprecated",
            old: "type Query { a: A } type A { x: Int }",
            new: "type Query { a: Int }",
            named: &[
                "type A removed while used where nothing was deprecated: Query.a",
                "field Query.a: type A became Int",
            ],
        },
        Case {
            what: "a removed union member",
            old: "type Query { u: U } union U = A | B type A { x: Int } type B { y: Int }",
            new: "type Query { u: U } union U = A type A { x: Int } type B { y: Int }",
            named: &["U no longer includes B"],
        },
    ]);
}

#[test]
fn removing_what_was_deprecated_is_allowed() {
    check(&[
        Case {
            what: "a removed deprecated field",
            old: r#"type Query { a: Int b: String @deprecated(reason: "use `a`") }"#,
            new: "type Query { a: Int }",
            named: &[],
        },
        Case {
            what: "a removed deprecated argument, input field and enum value",
            old: r#"type Query { a(x: Int, y: Int @deprecated(reason: "use `x`"), i: I): E }
                    input I { p: Int q: Int @deprecated(reason: "use `p`") }
                    enum E { ONE TWO @deprecated(reason: "use ONE") }"#,
            new: "type Query { a(x: Int, i: I): E } input I { p: Int } enum E { ONE }",
            named: &[],
        },
        Case {
            what: "a removed type whose every use was a deprecated field, removed with it",
            old: r#"type Query { a: Int old: Old @deprecated(reason: "use `a`") } type Old { x: Int }"#,
            new: "type Query { a: Int }",
            named: &[],
        },
    ]);
}

#[test]
fn a_new_required_argument_or_input_field_is_named() {
    check(&[
        Case {
            what: "a new required argument",
            old: "type Query { a(x: Int): Int }",
            new: "type Query { a(x: Int, y: Int!): Int }",
            named: &["argument Query.a(y) is new and required (Int!, no default)"],
        },
        Case {
            what: "an optional argument made required",
            old: "type Query { a(x: Int): Int }",
            new: "type Query { a(x: Int!): Int }",
            named: &["argument Query.a(x) became required (Int!, no default)"],
        },
        Case {
            what: "a required argument's default dropped",
            old: "type Query { a(x: Int! = 1): Int }",
            new: "type Query { a(x: Int!): Int }",
            named: &["argument Query.a(x) became required"],
        },
        Case {
            what: "a new required input field",
            old: "type Query { a(i: I): Int } input I { x: Int }",
            new: "type Query { a(i: I): Int } input I { x: Int y: String! }",
            named: &["input field I.y is new and required (String!, no default)"],
        },
        Case {
            what: "an argument's list items made non-null",
            old: "type Query { a(x: [Int]): Int }",
            new: "type Query { a(x: [Int!]): Int }",
            named: &["argument Query.a(x): type [Int] became [Int!]"],
        },
    ]);
}

#[test]
fn an_output_made_nullable_or_retyped_is_named() {
    check(&[
        Case {
            what: "a non-null field made nullable",
            old: "type Query { a: Int! }",
            new: "type Query { a: Int }",
            named: &["field Query.a: type Int! became Int"],
        },
        Case {
            what: "a list's items made nullable",
            old: "type Query { a: [Int!]! }",
            new: "type Query { a: [Int]! }",
            named: &["field Query.a: type [Int!]! became [Int]!"],
        },
        Case {
            what: "a field's type changed",
            old: "type Query { a: Int }",
            new: "type Query { a: String }",
            named: &["field Query.a: type Int became String"],
        },
        Case {
            what: "a type's kind changed",
            old: "type Query { a(i: I): Int } input I { x: Int }",
            new: "type Query { a(i: I): Int } scalar I",
            named: &["type I was Input, now Scalar"],
        },
    ]);
}

#[test]
fn additions_and_stricter_outputs_are_allowed() {
    check(&[Case {
        what: "new types, fields, optional arguments, input fields and enum values; an output made non-null; \
               an argument made nullable or given a default",
        old: "type Query { a(x: Int!, y: Int!): Int b(i: I): E } input I { x: Int } enum E { ONE }",
        new: r#"type Query { a(x: Int, y: Int! = 2, z: Int, w: Int! = 1): Int! b(i: I): E c: New }
                input I { x: Int y: String z: Int! = 0 } enum E { ONE TWO } type New { n: Int }"#,
        named: &[],
    }]);
}

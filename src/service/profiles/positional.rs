//! Rows as positional JSON arrays, decoded as if they were objects.
//!
//! A planned read returns each row as `[v1, v2, …]` rather than `{"c1": v1, …}`: the
//! database builds the array a fifth cheaper than the object (pgbench, the page of 50
//! of the benchmark), and the keys need not travel. Here the array's elements are
//! handed to the model's derived `Deserialize` as the values of the column names the
//! statement selected, in that order, so the models decode unchanged.

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use std::fmt;
use std::marker::PhantomData;

/// One row: `[v1, v2, …]` with `names[i]` the name of `vi`.
pub(crate) fn row<T: DeserializeOwned>(text: &str, names: &[&'static str]) -> serde_json::Result<T> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = Row::<T>::new(names).deserialize(&mut json)?;
    json.end()?;
    Ok(value)
}

/// A list of rows: `[[v1, v2, …], …]`.
pub(crate) fn rows<T: DeserializeOwned>(text: &str, names: &[&'static str]) -> serde_json::Result<Vec<T>> {
    let mut json = serde_json::Deserializer::from_str(text);
    let value = Rows::<T>::new(names).deserialize(&mut json)?;
    json.end()?;
    Ok(value)
}

/// Seed of one row of type `T`.
struct Row<'n, T> {
    names: &'n [&'static str],
    row: PhantomData<fn() -> T>,
}

impl<'n, T> Row<'n, T> {
    fn new(names: &'n [&'static str]) -> Self {
        Row { names, row: PhantomData }
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Row<'_, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(AsObject { names: self.names, inner: deserializer })
    }
}

/// Seed of a list of rows of type `T`.
struct Rows<'n, T>(Row<'n, T>);

impl<'n, T> Rows<'n, T> {
    fn new(names: &'n [&'static str]) -> Self {
        Rows(Row::new(names))
    }
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for Rows<'_, T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for Rows<'_, T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(row) = seq.next_element_seed(Row::<T>::new(self.0.names))? {
            rows.push(row);
        }
        Ok(rows)
    }
}

/// A deserializer that reads an array and presents it as an object keyed by `names`.
struct AsObject<'n, D> {
    names: &'n [&'static str],
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for AsObject<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_seq(ArrayAsObject { names: self.names, visitor })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// Visits an array by handing its elements to `visitor` as an object's values.
struct ArrayAsObject<'n, V> {
    names: &'n [&'static str],
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ArrayAsObject<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {} values", self.names.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Entries { names: self.names.iter(), seq, read: 0 })
    }
}

/// The entries of an object whose keys are `names` and whose values are `seq`'s.
struct Entries<'n, A> {
    names: std::slice::Iter<'n, &'static str>,
    seq: A,
    read: usize,
}

impl<'de, A: SeqAccess<'de>> MapAccess<'de> for Entries<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        match self.names.next() {
            Some(name) => seed.deserialize((*name).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.read += 1;
        self.seq
            .next_element_seed(seed)?
            .ok_or_else(|| de::Error::invalid_length(self.read - 1, &"one value per column"))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.names.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(default)]
    struct Model {
        id: i32,
        name: Option<String>,
        active: bool,
    }

    #[test]
    fn an_array_decodes_as_the_named_fields_others_taking_defaults() -> serde_json::Result<()> {
        let model: Model = row(r#"[7, true]"#, &["id", "active"])?;
        assert_eq!(model, Model { id: 7, name: None, active: true });
        Ok(())
    }

    #[test]
    fn a_list_of_arrays_decodes_each_row() -> serde_json::Result<()> {
        let models: Vec<Model> = rows(r#"[[1, "a"], [2, null]]"#, &["id", "name"])?;
        assert_eq!(
            models,
            vec![Model { id: 1, name: Some("a".into()), active: false }, Model { id: 2, ..Default::default() }]
        );
        Ok(())
    }

    #[test]
    fn a_length_or_type_mismatch_is_an_error() {
        assert!(row::<Model>("[1]", &["id", "name"]).is_err());
        assert!(row::<Model>("[1, \"a\", 3]", &["id", "name"]).is_err());
        assert!(row::<Model>("[\"x\"]", &["id"]).is_err());
        assert!(row::<Model>("{\"id\": 1}", &["id"]).is_err());
    }
}

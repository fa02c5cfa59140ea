//! Which keys a config table accepts, read from the serde structs themselves.
//!
//! serde's `deny_unknown_fields` stops at the first unknown key; `feedmill check` must report all of them
//! at once. So the key check walks the TOML document separately, and to keep one source of truth the
//! accepted keys are not listed by hand: a tiny deserializer asks `#[derive(Deserialize)]` for the field
//! list it was generated with.

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// The field names a `#[derive(Deserialize)]` struct accepts.
pub fn of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The capture always "fails" once it has seen the field list; that error is expected and dropped.
    let _ = T::deserialize(Capture(&mut fields));
    fields
}

struct Capture<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for Capture<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields captured"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        #[serde(rename = "base_url")]
        base: Option<String>,
    }

    #[test]
    fn reads_field_names_from_derive() {
        assert_eq!(super::of::<Sample>(), &["name", "base_url"]);
    }
}

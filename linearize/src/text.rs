//! [`Text`]: an immutable string that carries its hash, for model states.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An immutable string that carries its hash, so that the checker's state cache hashes and
/// compares it in constant time (a differing hash settles inequality without reading the
/// text), and appending hashes only what is appended. Cloning shares the bytes.
///
/// The hash is polynomial (`h(s) = sum of s[i] * B^(n-1-i)`, mod 2^64), so it depends only on
/// the bytes however the text was built: `h(a + b) = h(a) * B^|b| + h(b)`.
#[derive(Clone)]
pub struct Text {
    hash: u64,
    text: Arc<str>,
}

/// The base of the polynomial hash (odd, and with no short cycles mod 2^64).
const BASE: u64 = 0x0100_0000_01b3;

/// `(h(s), B^|s|)`.
fn poly(s: &str) -> (u64, u64) {
    s.bytes().fold((0u64, 1u64), |(h, p), b| {
        (
            h.wrapping_mul(BASE).wrapping_add(u64::from(b) + 1),
            p.wrapping_mul(BASE),
        )
    })
}

thread_local! {
    /// Where appends are assembled before they are shared.
    static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

impl Text {
    /// A text holding `s`.
    pub fn new(s: &str) -> Self {
        Text {
            hash: poly(s).0,
            text: Arc::from(s),
        }
    }

    /// The empty text.
    pub fn empty() -> Self {
        Text::new("")
    }

    /// This text followed by `suffix`.
    pub fn append(&self, suffix: &str) -> Self {
        let (h, p) = poly(suffix);
        let text = SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            scratch.push_str(&self.text);
            scratch.push_str(suffix);
            Arc::from(scratch.as_str())
        });
        Text {
            hash: self.hash.wrapping_mul(p).wrapping_add(h),
            text,
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text::empty()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        &*self.text == other
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text, f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Text::new(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_are_equal_however_built() {
        let a = Text::new("x 1 0 y").append("x 2 0 y");
        let b = Text::new("x 1 0 yx 2 0 y");
        assert_eq!(a, b);
        assert_ne!(a, Text::new("x 1 0 y"));
        assert!(a == *"x 1 0 yx 2 0 y");
        let (c, d) = (Text::new("ab").append("c"), Text::new("a").append("bc"));
        assert_eq!((c.hash, c.len()), (d.hash, d.len()));
        assert_eq!(c, d);
    }
}

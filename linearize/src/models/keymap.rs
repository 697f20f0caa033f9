//! [`KeyMap`]: the state of a key/value model, cheap when it holds one key (as every part of
//! a history split by key does).

use std::fmt;
use std::sync::Arc;

use crate::text::Text;

/// A map from keys to values in canonical form (sorted, no key holding the default value),
/// so that equal maps are equal as data. With no key or one key it does not allocate; with
/// more (a history checked whole) it shares one sorted slice.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub enum KeyMap<V> {
    /// Every key holds the default value.
    #[default]
    Empty,
    /// One key holds something else.
    One(Text, V),
    /// Several keys do, sorted by key.
    Many(Arc<[(Text, V)]>),
}

impl<V: Clone + Default + PartialEq> KeyMap<V> {
    /// The value at `key` (the default when absent).
    pub fn get(&self, key: &Text) -> Option<&V> {
        match self {
            KeyMap::Empty => None,
            KeyMap::One(k, v) => (k == key).then_some(v),
            KeyMap::Many(entries) => entries
                .binary_search_by(|(k, _)| k.as_str().cmp(key.as_str()))
                .ok()
                .map(|i| &entries[i].1),
        }
    }

    /// The map with `key` set to `value`.
    pub fn set(&self, key: &Text, value: V) -> Self {
        let absent = value == V::default();
        match self {
            KeyMap::Empty if absent => KeyMap::Empty,
            KeyMap::Empty => KeyMap::One(key.clone(), value),
            KeyMap::One(k, _) if k == key => {
                if absent {
                    KeyMap::Empty
                } else {
                    KeyMap::One(k.clone(), value)
                }
            }
            _ => {
                let mut entries: Vec<(Text, V)> =
                    self.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                match entries.binary_search_by(|(k, _)| k.as_str().cmp(key.as_str())) {
                    Ok(i) if absent => {
                        entries.remove(i);
                    }
                    Ok(i) => entries[i].1 = value,
                    Err(_) if absent => {}
                    Err(i) => entries.insert(i, (key.clone(), value)),
                }
                match entries.len() {
                    0 => KeyMap::Empty,
                    1 => {
                        let (k, v) = entries.swap_remove(0);
                        KeyMap::One(k, v)
                    }
                    _ => KeyMap::Many(entries.into()),
                }
            }
        }
    }

    /// The keys that hold something, in order, with their values.
    pub fn iter(&self) -> impl Iterator<Item = (&Text, &V)> {
        let one = match self {
            KeyMap::One(k, v) => Some((k, v)),
            _ => None,
        };
        let many: &[(Text, V)] = match self {
            KeyMap::Many(entries) => entries,
            _ => &[],
        };
        one.into_iter().chain(many.iter().map(|(k, v)| (k, v)))
    }
}

impl<V: fmt::Debug + Clone + Default + PartialEq> fmt::Debug for KeyMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_whatever_the_order_of_writes() {
        let (a, b, c) = (Text::new("a"), Text::new("b"), Text::new("c"));
        let m1 = KeyMap::<u32>::Empty
            .set(&a, 1)
            .set(&b, 2)
            .set(&c, 3)
            .set(&b, 0);
        let m2 = KeyMap::<u32>::Empty.set(&c, 3).set(&a, 1);
        assert_eq!(m1, m2);
        assert_eq!(m1.get(&a), Some(&1));
        assert_eq!(m1.get(&b), None);
        assert_eq!(m1.set(&a, 0).set(&c, 0), KeyMap::Empty);
        assert!(matches!(m2.set(&c, 0), KeyMap::One(..)));
    }
}

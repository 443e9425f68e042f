//! The iterators of a [`Map`](super::Map): thin wrappers over the entry vector's own, so they
//! are double-ended, exact-size and fused like the `BTreeMap` ones they stand in for.

use std::iter::FusedIterator;
use std::{slice, vec};

use crate::Value;

/// Generates an iterator type over the entries, with the item each entry maps to.
macro_rules! entry_iter {
    ($(#[$doc:meta])* $name:ident $(<$lt:lifetime>)?, $inner:ty, $item:ty, |$e:ident| $map:expr) => {
        $(#[$doc])*
        pub struct $name $(<$lt>)? {
            inner: $inner,
        }

        impl $(<$lt>)? $name $(<$lt>)? {
            pub(super) fn new(inner: $inner) -> Self {
                $name { inner }
            }
        }

        impl $(<$lt>)? Iterator for $name $(<$lt>)? {
            type Item = $item;

            fn next(&mut self) -> Option<$item> {
                self.inner.next().map(|$e| $map)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.inner.size_hint()
            }

            fn count(self) -> usize {
                self.inner.len()
            }

            fn nth(&mut self, n: usize) -> Option<$item> {
                self.inner.nth(n).map(|$e| $map)
            }

            fn last(mut self) -> Option<$item> {
                self.next_back()
            }
        }

        impl $(<$lt>)? DoubleEndedIterator for $name $(<$lt>)? {
            fn next_back(&mut self) -> Option<$item> {
                self.inner.next_back().map(|$e| $map)
            }
        }

        impl $(<$lt>)? ExactSizeIterator for $name $(<$lt>)? {
            fn len(&self) -> usize {
                self.inner.len()
            }
        }

        impl $(<$lt>)? FusedIterator for $name $(<$lt>)? {}
    };
}

entry_iter!(
    /// The entries of a map in key order, borrowed.
    Iter<'a>, slice::Iter<'a, (String, Value)>, (&'a String, &'a Value), |e| (&e.0, &e.1)
);
entry_iter!(
    /// The entries of a map in key order, values mutable.
    IterMut<'a>, slice::IterMut<'a, (String, Value)>, (&'a String, &'a mut Value),
    |e| (&e.0, &mut e.1)
);
entry_iter!(
    /// The entries of a map in key order, by value.
    IntoIter, vec::IntoIter<(String, Value)>, (String, Value), |e| e
);
entry_iter!(
    /// The keys of a map in order.
    Keys<'a>, slice::Iter<'a, (String, Value)>, &'a String, |e| &e.0
);
entry_iter!(
    /// The values of a map in key order.
    Values<'a>, slice::Iter<'a, (String, Value)>, &'a Value, |e| &e.1
);
entry_iter!(
    /// The values of a map in key order, mutable.
    ValuesMut<'a>, slice::IterMut<'a, (String, Value)>, &'a mut Value, |e| &mut e.1
);
entry_iter!(
    /// The keys of a map in order, by value.
    IntoKeys, vec::IntoIter<(String, Value)>, String, |e| e.0
);
entry_iter!(
    /// The values of a map in key order, by value.
    IntoValues, vec::IntoIter<(String, Value)>, Value, |e| e.1
);

impl Clone for Iter<'_> {
    fn clone(&self) -> Self {
        Iter {
            inner: self.inner.clone(),
        }
    }
}

impl Clone for Keys<'_> {
    fn clone(&self) -> Self {
        Keys {
            inner: self.inner.clone(),
        }
    }
}

impl Clone for Values<'_> {
    fn clone(&self) -> Self {
        Values {
            inner: self.inner.clone(),
        }
    }
}

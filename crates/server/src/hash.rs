//! A fast hasher for the server's small lookup tables whose keys come from the
//! operator, not from requests: routes (the registered operations), access keys
//! (the configuration) and store partitions (the owners of loaded stores).
//!
//! SipHash, std's default, resists collision flooding of tables that requests
//! can insert into; none of these grow from requests (a request only looks a
//! key up, and a lookup costs at most the probes of the few keys present), so a
//! per-request SipHash of each key buys nothing. This is the multiply-rotate
//! hash of rustc's `FxHasher`.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`FxHasher`].
pub(crate) type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// rustc's `FxHasher` (64-bit).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, mut bytes: &[u8]) {
        while let Some((word, rest)) = bytes.split_first_chunk::<8>() {
            self.add(u64::from_le_bytes(*word));
            bytes = rest;
        }
        if let Some((word, rest)) = bytes.split_first_chunk::<4>() {
            self.add(u64::from(u32::from_le_bytes(*word)));
            bytes = rest;
        }
        if let Some((word, rest)) = bytes.split_first_chunk::<2>() {
            self.add(u64::from(u16::from_le_bytes(*word)));
            bytes = rest;
        }
        if let Some(&byte) = bytes.first() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash(v: impl Hash) -> u64 {
        BuildHasherDefault::<FxHasher>::default().hash_one(v)
    }

    #[test]
    fn every_byte_counts() {
        // Strings of every length up to 19 (all the chunk sizes), each byte changed.
        let base: Vec<u8> = (0..19u8).map(|i| b'a' + i).collect();
        for len in 0..=base.len() {
            let s = &base[..len];
            for at in 0..len {
                let mut t = s.to_vec();
                t[at] ^= 1;
                assert_ne!(hash(s), hash(&t), "len {len} at {at}");
            }
            if len > 0 {
                assert_ne!(hash(s), hash(&base[..len - 1]), "len {len}");
            }
        }
        // str's terminator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(hash(("ab", "c")), hash(("a", "bc")));
        assert_eq!(hash("same"), hash(String::from("same")));
    }

    #[test]
    fn maps_find_what_they_hold() {
        let mut m = FxHashMap::default();
        for i in 0..1000 {
            m.insert(format!("AKIA{i:016}"), i);
        }
        for i in 0..1000 {
            assert_eq!(m.get(format!("AKIA{i:016}").as_str()), Some(&i));
        }
        assert_eq!(m.get("AKIA"), None);
    }
}

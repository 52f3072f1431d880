//! Pseudonyms for emails and serial numbers: a keyed hash, so equal values stay joinable
//! within one run while the values themselves cannot be read back without the salt.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret key of a run's pseudonyms. It is never written to any output.
#[derive(Clone)]
pub struct Salt {
    key: Vec<u8>,
    /// HMAC-SHA256 keyed with it: each pseudonym starts from a copy, so the key is
    /// hashed once, not once per value.
    keyed: Hmac<Sha256>,
}

impl Salt {
    /// A salt the user gave, so that a run can be repeated byte for byte.
    pub fn given(text: &str) -> Salt {
        Salt::of(text.as_bytes().to_vec())
    }

    /// A salt from fresh random bytes (the caller's platform supplies them).
    pub fn random(bytes: [u8; 32]) -> Salt {
        Salt::of(bytes.to_vec())
    }

    /// A salt of these bytes.
    pub(crate) fn of(key: Vec<u8>) -> Salt {
        let keyed = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
        Salt { key, keyed }
    }

    /// The salt's bytes, for a worker that writes pseudonyms too.
    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }

    /// The pseudonym of `value`: the first 16 bytes of HMAC-SHA256(salt, value), in
    /// lowercase hex.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac = self.keyed.clone();
        mac.update(value.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }
}

impl std::fmt::Debug for Salt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Salt(hidden)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonym_is_truncated_hmac_sha256_in_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let p = Salt::given("Jefe").pseudonym("what do ya want for nothing?");
        assert_eq!(p, "5bdcc146bf60754e6a042426089575c7");
    }

    #[test]
    fn pseudonyms_of_one_salt_do_not_depend_on_each_other() {
        // Another value first (its HMAC from Python's hmac module), then RFC 4231 case 2.
        let jefe = Salt::given("Jefe");
        assert_eq!(
            jefe.pseudonym("Hi There"),
            "6bfb115ca30df3be0dfdffe79a51cbee"
        );
        let p = jefe.pseudonym("what do ya want for nothing?");
        assert_eq!(p, "5bdcc146bf60754e6a042426089575c7");
        let key = Salt::random([0x0b; 32]);
        assert_eq!(key.key(), &[0x0b; 32][..]);
    }

    #[test]
    fn the_salt_never_shows_in_debug_output() {
        assert_eq!(format!("{:?}", Salt::given("secret")), "Salt(hidden)");
    }
}

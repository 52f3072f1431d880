//! Pseudonyms for emails and serial numbers: a keyed hash, so equal values stay joinable
//! within one run while the values themselves cannot be read back without the salt.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The secret key of a run's pseudonyms. It is never written to any output.
#[derive(Clone)]
pub struct Salt(Vec<u8>);

impl Salt {
    /// A salt the user gave, so that a run can be repeated byte for byte.
    pub fn given(text: &str) -> Salt {
        Salt(text.as_bytes().to_vec())
    }

    /// A salt from fresh random bytes (the caller's platform supplies them).
    pub fn random(bytes: [u8; 32]) -> Salt {
        Salt(bytes.to_vec())
    }

    /// The pseudonym of `value`: the first 16 bytes of HMAC-SHA256(salt, value), in
    /// lowercase hex.
    pub fn pseudonym(&self, value: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
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
    fn the_salt_never_shows_in_debug_output() {
        assert_eq!(format!("{:?}", Salt::given("secret")), "Salt(hidden)");
    }
}

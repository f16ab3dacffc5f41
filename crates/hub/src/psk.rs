//! Device PSK generation.

use base64ct::{Base64, Encoding};

/// Length of a generated device PSK in bytes (the console issues 16-byte secrets, protocol.md §8).
pub const PSK_LEN: usize = 16;

/// Errors while generating a PSK.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed ({0}); the hub cannot create device secrets")]
pub struct RandomError(getrandom::Error);

/// A fresh device PSK from the operating system's CSPRNG, base64-encoded as the console shows it.
pub fn generate_psk() -> Result<String, RandomError> {
    let mut bytes = [0u8; PSK_LEN];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    Ok(Base64::encode_string(&bytes))
}

/// A random token for hub-initiated requests (`control`, `action`), unique enough to pair replies.
pub fn client_token() -> Result<String, RandomError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(RandomError)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("hub-{hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_is_16_random_bytes_in_base64() {
        let a = generate_psk().unwrap();
        let b = generate_psk().unwrap();
        assert_eq!(Base64::decode_vec(&a).unwrap().len(), PSK_LEN);
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(client_token().unwrap(), client_token().unwrap());
        assert!(client_token().unwrap().starts_with("hub-"));
    }
}

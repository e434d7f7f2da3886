//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits),
//! the secret encrypted at rest with the app's key, and its QR code as SVG.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha1::Sha1;

const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;

pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rng().fill_bytes(&mut secret);
    secret
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

pub fn code_at(secret: &[u8], step: i64) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as Mac>::new_from_slice(secret) else { return u32::MAX };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    binary % 10u32.pow(DIGITS)
}

pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The time step a code matches (now, or one step either side for clock drift),
/// never one at or before `last_used` (no replay).
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, last_used: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let given: u32 = code.parse().ok()?;
    let now = step_at(unix_secs);
    [now - 1, now, now + 1]
        .into_iter()
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|step| code_at(secret, *step) == given)
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(secret: &[u8], account: &str) -> String {
    let label = crate::web::error::url_encode(&format!("Client Hub:{account}"));
    format!("otpauth://totp/{label}?secret={}&issuer=Client%20Hub&algorithm=SHA1&digits=6&period=30", base32(secret))
}

pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#111827"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// Encrypts the secret with AES-256-GCM under `key` (32 bytes): nonce ‖ ciphertext, hex.
pub fn seal(key: &[u8], secret: &[u8]) -> anyhow::Result<String> {
    let cipher = Aes256Gcm::new_from_slice(&key[..32]).map_err(|_| anyhow::anyhow!("bad key length"))?;
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher.encrypt(&nonce, secret).map_err(|_| anyhow::anyhow!("encryption failed"))?;
    Ok(format!("{}{}", hex::encode(nonce), hex::encode(sealed)))
}

pub fn open(key: &[u8], sealed: &str) -> anyhow::Result<Vec<u8>> {
    let bytes = hex::decode(sealed)?;
    anyhow::ensure!(bytes.len() > 12, "sealed secret too short");
    let cipher = Aes256Gcm::new_from_slice(&key[..32]).map_err(|_| anyhow::anyhow!("bad key length"))?;
    cipher
        .decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..])
        .map_err(|_| anyhow::anyhow!("the secret does not open with this SECRET_KEY"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vectors_match() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890" (last 6 digits).
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, step_at(59)), 287082);
        assert_eq!(code_at(secret, step_at(1111111109)), 81804);
        assert_eq!(code_at(secret, step_at(2000000000)), 279037);
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn a_code_is_accepted_once_and_within_one_step_of_drift() {
        let secret = generate_secret();
        let now = 1_800_000_000;
        let code = format!("{:06}", code_at(&secret, step_at(now) - 1));
        let step = verify(&secret, &code, now, None).unwrap();
        assert_eq!(verify(&secret, &code, now, Some(step)), None, "no replay");
        let old = format!("{:06}", code_at(&secret, step_at(now) - 3));
        assert_eq!(verify(&secret, &old, now, None), None);
        assert_eq!(verify(&secret, "12345", now, None), None);
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key() {
        let key = [7u8; 64];
        let sealed = seal(&key, b"secret").unwrap();
        assert_eq!(open(&key, &sealed).unwrap(), b"secret");
        assert!(open(&[8u8; 64], &sealed).is_err());
    }
}

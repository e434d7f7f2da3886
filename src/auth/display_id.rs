//! Public display IDs such as `CH-7K3F9Q`: short, unambiguous (Crockford's alphabet,
//! no I, L, O or U), random, unique (a collision is retried by the caller).

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub fn generate() -> String {
    let mut rng = rand::rng();
    let code: String = (0..6).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("CH-{code}")
}

/// Whether `code` has the shape of a display ID (`CH-` and six characters of the alphabet).
pub fn is_valid(code: &str) -> bool {
    code.strip_prefix("CH-").is_some_and(|rest| rest.len() == 6 && rest.bytes().all(|b| ALPHABET.contains(&b)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn display_ids_have_the_documented_shape() {
        for _ in 0..100 {
            let id = super::generate();
            assert_eq!(id.len(), 9);
            assert!(id.starts_with("CH-"));
            assert!(id[3..].chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
            assert!(!id[3..].contains(['I', 'L', 'O', 'U']));
        }
    }
}

//! Pure rules: validation, normalization, slugs, templates. No I/O, no printing.

pub mod campaign;
pub mod delivery;
pub mod phone;
pub mod picture;
pub mod privacy;
pub mod sheets;
pub mod signer;
pub mod slug;
pub mod templates;
pub mod text;

/// An email address a person can receive mail at: RFC 5322 syntax (the `email_address`
/// crate) and a dotted domain, since `ana@localhost` is valid syntax but reaches nobody.
pub fn email_ok(email: &str) -> bool {
    use std::str::FromStr;
    match email_address::EmailAddress::from_str(email) {
        Ok(parsed) => {
            let domain = parsed.domain();
            domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(' ')
        }
        Err(_) => false,
    }
}

//! Unix permission bits in config files (`file-mode` of bolt, `permission` of grpc).
//!
//! Ligato decodes these as Go integers from YAML 1.1, so both the decimal `432` of its sample
//! files and an octal-looking `0660` (which YAML 1.1 reads as octal) mean `rw-rw----`; we accept
//! both, plus `0o660`. It deliberately does not accept symbolic modes (`rw-rw----`) or bits
//! beyond `0o7777`.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Permission bits, serialized as the decimal integer Ligato writes (`432` for `0660`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FileMode(pub u32);

impl FileMode {
    /// The bits as a number, for `std::os::unix::fs::PermissionsExt::from_mode`.
    pub fn bits(self) -> u32 {
        self.0
    }

    fn checked<E: de::Error>(bits: u64) -> Result<Self, E> {
        match u32::try_from(bits) {
            Ok(bits) if bits <= 0o7777 => Ok(FileMode(bits)),
            _ => Err(E::custom(format!(
                "file mode {bits:#o} has bits beyond 0o7777"
            ))),
        }
    }
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ModeVisitor;
        impl Visitor<'_> for ModeVisitor {
            type Value = FileMode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a file mode: decimal 432 or octal 0660 / 0o660")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FileMode, E> {
                FileMode::checked(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FileMode, E> {
                let v = u64::try_from(v)
                    .map_err(|_| E::custom(format!("file mode {v} is negative")))?;
                FileMode::checked(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FileMode, E> {
                let octal = v.strip_prefix("0o").or_else(|| v.strip_prefix('0'));
                let parsed = match octal {
                    Some("") => Ok(0),
                    Some(digits) => u64::from_str_radix(digits, 8),
                    None => v.parse::<u64>(),
                };
                let bits = parsed.map_err(|_| E::custom(format!("invalid file mode {v:?}")))?;
                FileMode::checked(bits)
            }
        }
        deserializer.deserialize_any(ModeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<FileMode, String> {
        let options =
            serde_saphyr::options! { strict_booleans: true, leading_zero_numbers_as_strings: true };
        serde_saphyr::from_str_with_options::<FileMode>(yaml, options).map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_decimal_and_octal_spellings() {
        assert_eq!(parse("432"), Ok(FileMode(0o660)));
        assert_eq!(parse("0660"), Ok(FileMode(0o660)));
        assert_eq!(parse("0o660"), Ok(FileMode(0o660)));
        assert_eq!(parse("\"0654\""), Ok(FileMode(0o654)));
        assert_eq!(parse("000"), Ok(FileMode(0)));
        assert_eq!(FileMode(432).to_string(), "0660");
    }

    #[test]
    fn rejects_bad_modes() {
        for (yaml, needle) in [
            ("0999", "invalid file mode"),
            ("rw-rw----", "invalid file mode"),
            ("70000", "beyond 0o7777"),
            ("-1", "negative"),
        ] {
            let err = parse(yaml).expect_err(yaml);
            assert!(err.contains(needle), "{yaml}: {err}");
        }
    }
}

//! Unix permission bits in config files, in the two spellings Ligato uses.
//!
//! - [`FileMode`] (`file-mode` of bolt) is a Go `os.FileMode` read from YAML 1.1, so the decimal
//!   `432` of Ligato's sample and an octal-looking `0660` (YAML 1.1 octal) both mean `rw-rw----`;
//!   we accept both, plus `0o660`.
//! - [`SocketPermission`] (`permission` of grpc) is a Go `int` whose *decimal digits* are read as
//!   octal (cn-infra `getUnixSocketFilePermissions`): `660` means `rw-rw----`, and `0` means
//!   Go's `os.ModePerm` (`0777`).
//!
//! It deliberately does not accept symbolic modes (`rw-rw----`) or bits beyond `0o7777`.

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

/// A unix socket's permissions written as octal digits in a decimal number (`660`), as cn-infra's
/// grpc `permission` is; serialized the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SocketPermission(u32);

impl SocketPermission {
    /// From permission bits (`0o660`).
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits <= 0o7777).then_some(SocketPermission(bits))
    }

    /// The bits to apply: as written, or `0o777` when zero (unset), as Ligato does.
    pub fn mode(self) -> u32 {
        if self.0 == 0 { 0o777 } else { self.0 }
    }

    fn from_digits<E: de::Error>(digits: &str) -> Result<Self, E> {
        let digits = digits.strip_prefix("0o").unwrap_or(digits);
        u32::from_str_radix(digits, 8)
            .ok()
            .and_then(Self::from_bits)
            .ok_or_else(|| {
                E::custom(format!(
                    "invalid socket permission {digits:?}: expected up to four octal digits such as 660"
                ))
            })
    }
}

impl fmt::Display for SocketPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:o}", self.0)
    }
}

impl Serialize for SocketPermission {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The octal digits as a decimal number: 0o660 is written 660, as in Ligato's files.
        let digits = format!("{:o}", self.0);
        serializer.serialize_u32(digits.parse().unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for SocketPermission {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PermVisitor;
        impl Visitor<'_> for PermVisitor {
            type Value = SocketPermission;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a permission written in octal digits, such as 660 or 0660")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SocketPermission, E> {
                SocketPermission::from_digits(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SocketPermission, E> {
                SocketPermission::from_digits(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SocketPermission, E> {
                SocketPermission::from_digits(v)
            }
        }
        deserializer.deserialize_any(PermVisitor)
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
    fn socket_permission_digits_are_octal() {
        let options = || serde_saphyr::options! { strict_booleans: true, leading_zero_numbers_as_strings: true };
        let parse = |yaml: &str| {
            serde_saphyr::from_str_with_options::<SocketPermission>(yaml, options())
                .map_err(|e| e.to_string())
        };
        assert_eq!(parse("660"), Ok(SocketPermission(0o660)));
        assert_eq!(parse("0660"), Ok(SocketPermission(0o660)));
        assert_eq!(parse("000"), Ok(SocketPermission(0)));
        assert_eq!(parse("1777"), Ok(SocketPermission(0o1777)));
        assert_eq!(SocketPermission(0).mode(), 0o777);
        assert_eq!(SocketPermission(0o600).mode(), 0o600);
        assert_eq!(SocketPermission(0o660).to_string(), "660");
        assert_eq!(
            serde_json::to_string(&SocketPermission(0o660))
                .ok()
                .as_deref(),
            Some("660")
        );
        for bad in ["680", "17777", "-1", "rw"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("invalid socket permission"), "{bad}: {err}");
        }
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

//! MQTT credentials for devices that authenticate with a key (PSK), as in protocol.md §3.2.
//!
//! A device signs in with three strings built from its identity (`ProductId`, `DeviceName` and the
//! base64 device secret from the console):
//!
//! | MQTT field | Value |
//! |---|---|
//! | client id | `{ProductId}{DeviceName}` (no separator) |
//! | username | `{client id};{sdkappid};{connid};{expiry}` |
//! | password | `{lowercase hex HMAC(psk, username)};hmacsha256` (or `;hmacsha1`) |
//!
//! The project defaults (protocol.md §11): sdkappid [`SdkAppId::DEFAULT`] (`12010126`),
//! [`SignMethod::HmacSha256`], and an expiry of now + [`DEFAULT_TTL_SECS`], or
//! [`Expiry::Never`] (`2147483647`) for devices without a clock.
//!
//! This module never reads a clock or an RNG itself: the caller passes the connid (or an RNG to
//! make one, see [`ConnId::random`]) and the expiry, so the same code runs on the host, in a
//! fuzzer and on a microcontroller. Outputs live in fixed-capacity [`heapless::String`]s;
//! signing does not allocate.
//!
//! The verification side ([`Username::parse`], [`verify_password`]) serves a broker that checks
//! what devices send.
//!
//! ```
//! use iot_core::credentials::{ConnId, DeviceIdentity, Expiry, SignOptions};
//!
//! let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
//! let options = SignOptions::new(ConnId::new("ZR5GT")?, Expiry::At(2_623_045_740));
//! let creds = device.sign(&options)?;
//! assert_eq!(creds.client_id(), "CS0SLTKSYAdev1");
//! assert_eq!(creds.username(), "CS0SLTKSYAdev1;12010126;ZR5GT;2623045740");
//! assert_eq!(
//!     creds.password(),
//!     "2debdc61b009ef8d09597f106f6f8ca36f101415459b0623780a81e711e7257c;hmacsha256"
//! );
//! # Ok::<(), iot_core::credentials::CredentialsError>(())
//! ```

use core::fmt::{self, Write as _};
use core::str::FromStr;

use base64ct::{Base64, Encoding as _};
use heapless::String;
use hmac::{Hmac, KeyInit, Mac};
#[cfg(feature = "hmac-sha1")]
use sha1::Sha1;
use sha2::Sha256;
use zeroize::Zeroize;

/// The `rand_core` crate (version 0.9) whose [`RngCore`] trait
/// [`ConnId::random`] takes. embassy-rp 0.10 (`RoscRng`), esp-hal 1.x (`Rng`, `Trng`) and
/// `rand` 0.9 on the host implement this version.
pub use rand_core;

use rand_core::RngCore;

/// Longest accepted `ProductId`, in bytes.
///
/// Console product ids are 10 characters (`[A-Z0-9]{10}`); the bound leaves room for other
/// deployments (such as a local hub) while keeping the client id bounded.
pub const PRODUCT_ID_MAX_LEN: usize = 32;

/// Longest accepted `DeviceName`, in bytes (the console limit is 48 characters).
pub const DEVICE_NAME_MAX_LEN: usize = 48;

/// Longest accepted PSK after base64 decoding, in bytes.
///
/// Console secrets decode to 16 bytes; the C SDK accepts up to 48 (`DECODE_PSK_LENGTH`,
/// protocol.md §3.2 step 3).
pub const PSK_MAX_LEN: usize = 48;

/// Length of a connid made by [`ConnId::random`] (the official SDKs use 5, protocol.md §3.2).
pub const CONN_ID_LEN: usize = 5;

/// Longest accepted explicit connid, in bytes. Third-party clients send longer ones than the
/// SDK's 5 characters, and the broker does not appear to enforce a length (protocol.md §3.2).
pub const CONN_ID_MAX_LEN: usize = 32;

/// Capacity of the client id: `ProductId` followed by `DeviceName` (80 bytes).
pub const CLIENT_ID_CAPACITY: usize = PRODUCT_ID_MAX_LEN + DEVICE_NAME_MAX_LEN;

/// Decimal digits of `u32::MAX`.
const U32_DIGITS: usize = 10;
/// Decimal digits of `u64::MAX`.
const U64_DIGITS: usize = 20;

/// Capacity of the username `{client id};{sdkappid};{connid};{expiry}` (145 bytes).
///
/// The sdkappid is a `u32` (at most 10 digits) and the expiry a `u64` (at most 20 digits), so
/// every username built from accepted inputs fits.
pub const USERNAME_CAPACITY: usize =
    CLIENT_ID_CAPACITY + 1 + U32_DIGITS + 1 + CONN_ID_MAX_LEN + 1 + U64_DIGITS;

/// Longest HMAC in bytes (SHA-256).
pub const MAC_MAX_LEN: usize = 32;

/// Capacity of the password `{hex hmac};{method}` (75 bytes: 64 hex digits, `;hmacsha256`).
pub const PASSWORD_CAPACITY: usize = 2 * MAC_MAX_LEN + 1 + "hmacsha256".len();

/// The expiry sent by [`Expiry::Never`]: `i32::MAX`, as the V4 C SDK sends (protocol.md §10.2).
pub const EXPIRY_NEVER: u64 = 2_147_483_647;

/// Default signature lifetime in seconds (protocol.md §11.3 "now + a configurable TTL"; the
/// doc's Python sample uses 3600).
pub const DEFAULT_TTL_SECS: u64 = 3600;

/// HMAC block size of SHA-1 and SHA-256, in bytes.
const HMAC_BLOCK_LEN: usize = 64;

// A PSK must fit in one HMAC block, so keys are zero-padded rather than hashed
// (RFC 2104 §2) and `KeyInit::new` cannot fail.
const _: () = assert!(PSK_MAX_LEN <= HMAC_BLOCK_LEN);
const _: () = assert!(CONN_ID_LEN <= CONN_ID_MAX_LEN);

/// Characters [`ConnId::random`] draws from (the C SDK's `[a-zA-Z0-9]`, protocol.md §3.2).
const CONN_ID_ALPHABET: &[u8; 62] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Which input or output an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Field {
    /// The `ProductId`.
    ProductId,
    /// The `DeviceName`.
    DeviceName,
    /// The connid of the username.
    ConnId,
    /// The client id (`ProductId` + `DeviceName`), inside a username.
    ClientId,
    /// The sdkappid of the username.
    SdkAppId,
    /// The expiry of the username.
    Expiry,
    /// The whole username.
    Username,
    /// The whole password.
    Password,
}

impl Field {
    /// The field's name as used in error messages, e.g. `"device name"`.
    ///
    /// ```
    /// assert_eq!(iot_core::credentials::Field::ConnId.as_str(), "connid");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProductId => "product id",
            Self::DeviceName => "device name",
            Self::ConnId => "connid",
            Self::ClientId => "client id",
            Self::SdkAppId => "sdkappid",
            Self::Expiry => "expiry",
            Self::Username => "username",
            Self::Password => "password",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why credentials could not be built, parsed or verified.
///
/// No variant carries secret material: PSK errors give only an offset or a length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CredentialsError {
    /// The PSK text is empty, or decodes to no bytes.
    #[error("device PSK is empty; copy the device secret from the console's device page")]
    PskEmpty,
    /// The PSK is not padded standard base64 (RFC 4648 §4).
    #[error(
        "device PSK is not valid base64 (problem at byte {offset}); copy the device secret again \
         from the console's device page"
    )]
    PskNotBase64 {
        /// Byte offset of the first character that is not base64, or of the bad padding/length.
        offset: usize,
    },
    /// The PSK decodes to more than [`PSK_MAX_LEN`] bytes.
    #[error(
        "device PSK decodes to {len} bytes but at most 48 are allowed; check that this is the \
         device secret and not some other key"
    )]
    PskTooLong {
        /// Decoded length in bytes.
        len: usize,
    },
    /// A required field is empty.
    #[error("{field} is empty; set it to the value shown in the console")]
    Empty {
        /// The empty field.
        field: Field,
    },
    /// A field is longer than its bound.
    #[error(
        "{field} is {len} bytes long but at most {max} are allowed; check it against the console"
    )]
    TooLong {
        /// The over-long field.
        field: Field,
        /// Its length in bytes.
        len: usize,
        /// The bound ([`PRODUCT_ID_MAX_LEN`], [`DEVICE_NAME_MAX_LEN`], ...).
        max: usize,
    },
    /// A field contains a non-ASCII character.
    #[error(
        "{field} has a non-ASCII character at byte {offset}; use only ASCII letters, digits and \
         the punctuation the console allows"
    )]
    NonAscii {
        /// The field.
        field: Field,
        /// Byte offset of the character.
        offset: usize,
    },
    /// A field contains an ASCII character that it does not allow (see [`validate_product_id`],
    /// [`validate_device_name`], [`ConnId::new`]).
    #[error("{field} has the character {character:?} at byte {offset}, which it does not allow; remove it")]
    IllegalCharacter {
        /// The field.
        field: Field,
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        character: char,
    },
    /// A username does not have the four `;`-separated fields.
    #[error(
        "username has {found} ';'-separated fields but needs 4 \
         ({{clientid}};{{sdkappid}};{{connid}};{{expiry}}); sign the credentials again"
    )]
    UsernameFieldCount {
        /// Number of fields found.
        found: usize,
    },
    /// The sdkappid or expiry of a username is not a decimal number that fits its type.
    #[error("{field} in the username is not a decimal number in range; send ASCII digits only")]
    NotANumber {
        /// [`Field::SdkAppId`] or [`Field::Expiry`].
        field: Field,
    },
    /// A sign method other than `hmacsha256` or `hmacsha1` was named.
    #[error("unknown sign method; use hmacsha256 or hmacsha1")]
    UnknownSignMethod,
    /// `hmacsha1` was named, but this build of iot-core leaves HMAC-SHA1 out (its `hmac-sha1` feature, on by
    /// default, is off).
    #[error(
        "hmacsha1 is not built in; sign with hmacsha256, or enable iot-core's `hmac-sha1` feature"
    )]
    Sha1NotBuilt,
    /// A password is not `{hex hmac};{method}` with the right number of hex digits.
    #[error(
        "password is not of the form <hex hmac>;hmacsha256 (64 hex digits) or <hex hmac>;hmacsha1 \
         (40 hex digits); sign the credentials again"
    )]
    PasswordMalformed,
    /// The password's HMAC does not match the username and PSK.
    #[error(
        "password does not match the username and PSK; check the device secret and sign again"
    )]
    PasswordMismatch,
    /// An output does not fit its fixed capacity. Inputs within the documented bounds never
    /// cause this.
    #[error(
        "{field} needs more than the {capacity} bytes reserved for it; raise its capacity constant"
    )]
    Capacity {
        /// [`Field::ClientId`], [`Field::Username`] or [`Field::Password`].
        field: Field,
        /// The capacity that was exceeded.
        capacity: usize,
    },
}

/// The HMAC used for the password (protocol.md §3.2 step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SignMethod {
    /// HMAC-SHA256, suffix `hmacsha256`: the project default (protocol.md §11.2).
    #[default]
    HmacSha256,
    /// HMAC-SHA1, suffix `hmacsha1`: what the official C and Python SDKs send. Needs the `hmac-sha1` feature (on
    /// by default; firmware that only signs with SHA-256 leaves it out to save about 2.6 KB of flash).
    #[cfg(feature = "hmac-sha1")]
    HmacSha1,
}

impl SignMethod {
    /// The password suffix: `"hmacsha256"` or `"hmacsha1"`.
    ///
    /// ```
    /// use iot_core::credentials::SignMethod;
    /// assert_eq!(SignMethod::HmacSha256.as_str(), "hmacsha256");
    /// # #[cfg(feature = "hmac-sha1")]
    /// assert_eq!("hmacsha1".parse::<SignMethod>(), Ok(SignMethod::HmacSha1));
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HmacSha256 => "hmacsha256",
            #[cfg(feature = "hmac-sha1")]
            Self::HmacSha1 => "hmacsha1",
        }
    }

    /// Length of the HMAC in bytes: 32 for SHA-256, 20 for SHA-1.
    ///
    /// ```
    /// assert_eq!(iot_core::credentials::SignMethod::HmacSha256.mac_len(), 32);
    /// ```
    #[must_use]
    pub const fn mac_len(self) -> usize {
        match self {
            Self::HmacSha256 => 32,
            #[cfg(feature = "hmac-sha1")]
            Self::HmacSha1 => 20,
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignMethod {
    type Err = CredentialsError;

    /// Parses the exact lowercase suffixes `hmacsha256` and `hmacsha1` ([`CredentialsError::Sha1NotBuilt`] for
    /// the latter without the `hmac-sha1` feature).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "hmacsha256" => Ok(Self::HmacSha256),
            #[cfg(feature = "hmac-sha1")]
            "hmacsha1" => Ok(Self::HmacSha1),
            #[cfg(not(feature = "hmac-sha1"))]
            "hmacsha1" => Err(CredentialsError::Sha1NotBuilt),
            _ => Err(CredentialsError::UnknownSignMethod),
        }
    }
}

/// The sdkappid field of the username (protocol.md §3.2 step 2, §10.1).
///
/// ```
/// use iot_core::credentials::SdkAppId;
/// assert_eq!(SdkAppId::default(), SdkAppId::DEFAULT);
/// assert_eq!(SdkAppId::OFFICIAL_SDK.to_string(), "21010406");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SdkAppId(pub u32);

impl SdkAppId {
    /// `12010126`, the value the documentation prescribes: the project default (protocol.md §11.1).
    pub const DEFAULT: Self = Self(12_010_126);
    /// `21010406`, the value all official SDKs send (`QCLOUD_IOT_DEVICE_SDK_APPID`).
    pub const OFFICIAL_SDK: Self = Self(21_010_406);
}

impl Default for SdkAppId {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for SdkAppId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// When the signature stops being valid, in Unix seconds (protocol.md §3.2 step 2, §11.3).
///
/// ```
/// use iot_core::credentials::{Expiry, DEFAULT_TTL_SECS};
/// assert_eq!(Expiry::Never.unix_seconds(), 2_147_483_647);
/// assert_eq!(Expiry::after(1_700_000_000, DEFAULT_TTL_SECS), Expiry::At(1_700_003_600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Expiry {
    /// Expires at this Unix time, in seconds.
    At(u64),
    /// Sends [`EXPIRY_NEVER`] (`2147483647`), for devices without a reliable clock.
    Never,
}

impl Expiry {
    /// Expires `ttl_secs` after `now_unix_secs` (saturating at `u64::MAX`).
    #[must_use]
    pub const fn after(now_unix_secs: u64, ttl_secs: u64) -> Self {
        Self::At(now_unix_secs.saturating_add(ttl_secs))
    }

    /// The value written into the username.
    #[must_use]
    pub const fn unix_seconds(self) -> u64 {
        match self {
            Self::At(t) => t,
            Self::Never => EXPIRY_NEVER,
        }
    }
}

/// Accepted `ProductId` characters: ASCII letters, digits, `_` and `-`.
const fn is_product_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// Accepted `DeviceName` characters: ASCII letters, digits and `_ - . : @`.
///
/// These are the characters the console accepts in device names. None of them is `;` (the
/// username separator), `/` or an MQTT wildcard, so a valid name is also a valid topic level.
const fn is_device_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':' | b'@')
}

/// Checks length (1..=`max` bytes) and characters of an identifier.
fn validate_identifier(
    field: Field,
    s: &str,
    max: usize,
    allowed: fn(u8) -> bool,
) -> Result<(), CredentialsError> {
    if s.is_empty() {
        return Err(CredentialsError::Empty { field });
    }
    if s.len() > max {
        return Err(CredentialsError::TooLong {
            field,
            len: s.len(),
            max,
        });
    }
    for (offset, character) in s.char_indices() {
        if !character.is_ascii() {
            return Err(CredentialsError::NonAscii { field, offset });
        }
        // `character` is ASCII here, so the cast keeps its value.
        if !allowed(character as u8) {
            return Err(CredentialsError::IllegalCharacter {
                field,
                offset,
                character,
            });
        }
    }
    Ok(())
}

/// Checks a `ProductId`: 1 to [`PRODUCT_ID_MAX_LEN`] bytes of `[A-Za-z0-9_-]`.
///
/// # Errors
///
/// [`CredentialsError::Empty`], [`CredentialsError::TooLong`], [`CredentialsError::NonAscii`] or
/// [`CredentialsError::IllegalCharacter`], each with [`Field::ProductId`].
///
/// ```
/// use iot_core::credentials::{validate_product_id, CredentialsError, Field};
/// assert!(validate_product_id("CS0SLTKSYA").is_ok());
/// assert_eq!(
///     validate_product_id(""),
///     Err(CredentialsError::Empty { field: Field::ProductId })
/// );
/// ```
pub fn validate_product_id(product_id: &str) -> Result<(), CredentialsError> {
    validate_identifier(
        Field::ProductId,
        product_id,
        PRODUCT_ID_MAX_LEN,
        is_product_id_byte,
    )
}

/// Checks a `DeviceName`: 1 to [`DEVICE_NAME_MAX_LEN`] bytes of `[A-Za-z0-9_\-.:@]`.
///
/// # Errors
///
/// [`CredentialsError::Empty`], [`CredentialsError::TooLong`], [`CredentialsError::NonAscii`] or
/// [`CredentialsError::IllegalCharacter`], each with [`Field::DeviceName`].
///
/// ```
/// use iot_core::credentials::{validate_device_name, CredentialsError, Field};
/// assert!(validate_device_name("env-mon_01").is_ok());
/// assert_eq!(
///     validate_device_name("dev;1"),
///     Err(CredentialsError::IllegalCharacter { field: Field::DeviceName, offset: 3, character: ';' })
/// );
/// ```
pub fn validate_device_name(device_name: &str) -> Result<(), CredentialsError> {
    validate_identifier(
        Field::DeviceName,
        device_name,
        DEVICE_NAME_MAX_LEN,
        is_device_name_byte,
    )
}

/// The connid field of the username: 1 to [`CONN_ID_MAX_LEN`] ASCII letters and digits.
///
/// The broker uses it only to help locate problems (protocol.md §3.2); a fresh random one per
/// connection, as the SDKs make, is the usual choice.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ConnId(String<CONN_ID_MAX_LEN>);

impl ConnId {
    /// Takes an explicit connid.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Empty`], [`CredentialsError::TooLong`], [`CredentialsError::NonAscii`]
    /// or [`CredentialsError::IllegalCharacter`], each with [`Field::ConnId`].
    ///
    /// ```
    /// use iot_core::credentials::{ConnId, CredentialsError, Field};
    /// assert_eq!(ConnId::new("ZR5GT")?.as_str(), "ZR5GT");
    /// assert!(matches!(
    ///     ConnId::new("ab;c"),
    ///     Err(CredentialsError::IllegalCharacter { field: Field::ConnId, offset: 2, .. })
    /// ));
    /// # Ok::<(), CredentialsError>(())
    /// ```
    pub fn new(conn_id: &str) -> Result<Self, CredentialsError> {
        validate_identifier(Field::ConnId, conn_id, CONN_ID_MAX_LEN, |b| {
            b.is_ascii_alphanumeric()
        })?;
        let mut s = String::new();
        s.push_str(conn_id).map_err(|_| CredentialsError::TooLong {
            field: Field::ConnId,
            len: conn_id.len(),
            max: CONN_ID_MAX_LEN,
        })?;
        Ok(Self(s))
    }

    /// Makes a [`CONN_ID_LEN`]-character connid from `[A-Za-z0-9]`, as the C SDK does.
    ///
    /// It draws one `u64` and reduces it modulo 62⁵; the bias that leaves is below 10⁻¹⁰.
    ///
    /// ```
    /// use iot_core::credentials::{rand_core::RngCore, ConnId};
    ///
    /// // Any rand_core 0.9 RNG: a hardware RNG on a board, `rand::rng()` on a host.
    /// struct Counter(u64);
    /// impl RngCore for Counter {
    ///     fn next_u32(&mut self) -> u32 { self.next_u64() as u32 }
    ///     fn next_u64(&mut self) -> u64 { self.0 += 1; self.0 }
    ///     fn fill_bytes(&mut self, dst: &mut [u8]) { dst.fill(0) }
    /// }
    /// let id = ConnId::random(&mut Counter(0));
    /// assert_eq!(id.as_str(), "BAAAA");
    /// ```
    pub fn random<R: RngCore + ?Sized>(rng: &mut R) -> Self {
        // 62^5 = 916_132_832 < 2^32, so one u64 gives all five digits.
        const ALPHABET_LEN: u64 = CONN_ID_ALPHABET.len() as u64;
        let mut n = rng.next_u64() % ALPHABET_LEN.pow(CONN_ID_LEN as u32);
        let mut s = String::new();
        for _ in 0..CONN_ID_LEN {
            let digit = (n % ALPHABET_LEN) as usize;
            n /= ALPHABET_LEN;
            let character = char::from(CONN_ID_ALPHABET[digit]);
            // Cannot fail: CONN_ID_LEN <= CONN_ID_MAX_LEN (checked at compile time above).
            if s.push(character).is_err() {
                break;
            }
        }
        Self(s)
    }

    /// The connid text.
    ///
    /// ```
    /// assert_eq!(iot_core::credentials::ConnId::new("41883")?.as_str(), "41883");
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ConnId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ConnId {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "ConnId({=str})", self.as_str());
    }
}

impl FromStr for ConnId {
    type Err = CredentialsError;

    /// Same as [`ConnId::new`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// A decoded device PSK (1 to [`PSK_MAX_LEN`] bytes), wiped from memory when dropped.
///
/// `Debug` and `defmt::Format` print only the length.
#[derive(Clone)]
pub struct Psk {
    bytes: [u8; PSK_MAX_LEN],
    len: usize,
}

impl Psk {
    /// Decodes the base64 device secret shown in the console (padded standard base64, RFC 4648
    /// §4, e.g. `IyXmUW5sU/q1vnb5yzTkeQ==`). Surrounding whitespace is not accepted.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::PskEmpty`], [`CredentialsError::PskNotBase64`] or
    /// [`CredentialsError::PskTooLong`].
    ///
    /// ```
    /// use iot_core::credentials::{CredentialsError, Psk};
    /// assert_eq!(Psk::from_base64("IyXmUW5sU/q1vnb5yzTkeQ==")?.byte_len(), 16);
    /// assert_eq!(
    ///     Psk::from_base64("IyXm!W5s").err(),
    ///     Some(CredentialsError::PskNotBase64 { offset: 4 })
    /// );
    /// # Ok::<(), CredentialsError>(())
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, CredentialsError> {
        if text.is_empty() {
            return Err(CredentialsError::PskEmpty);
        }
        let bytes = text.as_bytes();
        // Look for a character outside the alphabet first, so that error names its offset. This
        // scan only branches on whether a byte is in the alphabet, not on its value otherwise.
        if let Some(offset) = bytes
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
        {
            return Err(CredentialsError::PskNotBase64 { offset });
        }
        // Padding is at most two '='; a longer run is caught by the decoder below.
        let unpadded = bytes.len()
            - bytes
                .iter()
                .rev()
                .take(2)
                .take_while(|&&b| b == b'=')
                .count();
        let decoded_len = unpadded / 4 * 3 + (unpadded % 4).saturating_sub(1);
        if decoded_len > PSK_MAX_LEN {
            return Err(CredentialsError::PskTooLong { len: decoded_len });
        }
        let mut psk = Self {
            bytes: [0; PSK_MAX_LEN],
            len: 0,
        };
        // base64ct decodes in constant time.
        let len = Base64::decode(bytes, &mut psk.bytes)
            .map_err(|_| CredentialsError::PskNotBase64 {
                offset: first_bad_base64_offset(bytes),
            })?
            .len();
        if len == 0 {
            return Err(CredentialsError::PskEmpty);
        }
        psk.len = len;
        Ok(psk)
    }

    /// Takes raw key bytes (already decoded).
    ///
    /// # Errors
    ///
    /// [`CredentialsError::PskEmpty`] or [`CredentialsError::PskTooLong`].
    ///
    /// ```
    /// use iot_core::credentials::{CredentialsError, Psk};
    /// assert!(Psk::from_bytes(b"0123456789123456").is_ok());
    /// assert_eq!(Psk::from_bytes(&[0; 49]).err(), Some(CredentialsError::PskTooLong { len: 49 }));
    /// ```
    pub fn from_bytes(key: &[u8]) -> Result<Self, CredentialsError> {
        if key.is_empty() {
            return Err(CredentialsError::PskEmpty);
        }
        let mut psk = Self {
            bytes: [0; PSK_MAX_LEN],
            len: key.len(),
        };
        psk.bytes
            .get_mut(..key.len())
            .ok_or(CredentialsError::PskTooLong { len: key.len() })?
            .copy_from_slice(key);
        Ok(psk)
    }

    /// Length of the decoded key in bytes (1 to [`PSK_MAX_LEN`]).
    ///
    /// ```
    /// let psk = iot_core::credentials::Psk::from_base64("u/nAbSmZKbCW7lugludvLg==")?;
    /// assert_eq!(psk.byte_len(), 16);
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub const fn byte_len(&self) -> usize {
        self.len
    }

    /// The HMAC of `message` keyed with this PSK: the primitive behind the password.
    ///
    /// Its `Display` is lowercase hex, as sent in the password (protocol.md §3.2 step 4).
    ///
    /// ```
    /// use iot_core::credentials::{Psk, SignMethod};
    /// let psk = Psk::from_bytes(b"0123456789123456")?;
    /// # #[cfg(feature = "hmac-sha1")] {
    /// let mac = psk.hmac(SignMethod::HmacSha1, b"Here is a test for hmac-sha1!");
    /// assert_eq!(mac.to_string(), "614b650ffefff7862c1bc7fdd9de4e472a8184c4");
    /// # }
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub fn hmac(&self, method: SignMethod, message: &[u8]) -> MacOutput {
        let mut out = MacOutput {
            bytes: [0; MAC_MAX_LEN],
            len: method.mac_len(),
        };
        match method {
            SignMethod::HmacSha256 => {
                let mut mac = Hmac::<Sha256>::new(&self.key_block());
                mac.update(message);
                copy_prefix(&mut out.bytes, &mac.finalize().into_bytes());
            }
            #[cfg(feature = "hmac-sha1")]
            SignMethod::HmacSha1 => {
                let mut mac = Hmac::<Sha1>::new(&self.key_block());
                mac.update(message);
                copy_prefix(&mut out.bytes, &mac.finalize().into_bytes());
            }
        }
        out
    }

    /// Checks in constant time that `mac` is the HMAC of `message` under this key.
    fn verify(&self, method: SignMethod, message: &[u8], mac: &[u8]) -> bool {
        match method {
            SignMethod::HmacSha256 => {
                let mut m = Hmac::<Sha256>::new(&self.key_block());
                m.update(message);
                m.verify_slice(mac).is_ok()
            }
            #[cfg(feature = "hmac-sha1")]
            SignMethod::HmacSha1 => {
                let mut m = Hmac::<Sha1>::new(&self.key_block());
                m.update(message);
                m.verify_slice(mac).is_ok()
            }
        }
    }

    /// The key zero-padded to one HMAC block, which HMAC treats the same as the short key
    /// (RFC 2104 §2). This makes `KeyInit::new` infallible.
    fn key_block<K>(&self) -> K
    where
        K: From<[u8; HMAC_BLOCK_LEN]>,
    {
        let mut block = [0u8; HMAC_BLOCK_LEN];
        copy_prefix(&mut block, &self.bytes);
        let key = K::from(block);
        block.zeroize();
        key
    }
}

impl Drop for Psk {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Psk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Psk")
            .field("byte_len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Psk {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Psk({=usize} bytes)", self.len);
    }
}

impl FromStr for Psk {
    type Err = CredentialsError;

    /// Same as [`Psk::from_base64`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_base64(s)
    }
}

/// Copies as much of `src` as fits into the start of `dst`.
fn copy_prefix(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Where a string that failed to decode stops being padded base64 (for the error message).
fn first_bad_base64_offset(bytes: &[u8]) -> usize {
    // A '=' followed by anything but '=' is misplaced padding.
    if let Some(pos) = bytes.iter().position(|&b| b == b'=') {
        if bytes
            .get(pos..)
            .is_some_and(|rest| rest.iter().any(|&b| b != b'='))
        {
            return pos;
        }
        if !bytes.len().is_multiple_of(4) || bytes.len() - pos > 2 {
            return pos;
        }
    }
    // Otherwise the length (or the unused bits of the last character) is wrong: point at the end.
    bytes.len().saturating_sub(1)
}

/// An HMAC-SHA256 or HMAC-SHA1 result. `Display` writes it as lowercase hex.
///
/// `Debug` shows only the length, since the value is the secret part of a password.
#[derive(Clone, PartialEq, Eq)]
pub struct MacOutput {
    bytes: [u8; MAC_MAX_LEN],
    len: usize,
}

impl MacOutput {
    /// The raw HMAC bytes (32 for SHA-256, 20 for SHA-1).
    ///
    /// ```
    /// use iot_core::credentials::{Psk, SignMethod};
    /// let psk = Psk::from_bytes(b"key")?;
    /// assert_eq!(psk.hmac(SignMethod::HmacSha256, b"msg").as_bytes().len(), 32);
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

impl fmt::Display for MacOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        // One write_str rather than a write_char per digit (measurably faster signing).
        let mut text = [0u8; 2 * MAC_MAX_LEN];
        for (pair, &b) in text.chunks_exact_mut(2).zip(self.as_bytes()) {
            pair.copy_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]);
        }
        let text = text.get(..2 * self.as_bytes().len()).ok_or(fmt::Error)?;
        f.write_str(core::str::from_utf8(text).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for MacOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MacOutput")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Options for [`DeviceIdentity::sign`]: what goes into the username besides the client id.
///
/// ```
/// use iot_core::credentials::{ConnId, Expiry, SdkAppId, SignMethod, SignOptions};
/// let options = SignOptions::new(ConnId::new("Xy7Qp")?, Expiry::Never)
///     .with_method(SignMethod::HmacSha256)
///     .with_sdk_app_id(SdkAppId::OFFICIAL_SDK);
/// assert_eq!(options.method, SignMethod::HmacSha256);
/// # Ok::<(), iot_core::credentials::CredentialsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SignOptions {
    /// HMAC for the password; default [`SignMethod::HmacSha256`].
    pub method: SignMethod,
    /// sdkappid; default [`SdkAppId::DEFAULT`].
    pub sdk_app_id: SdkAppId,
    /// connid; see [`ConnId::random`].
    pub conn_id: ConnId,
    /// Expiry of the signature.
    pub expiry: Expiry,
}

impl SignOptions {
    /// Options with the project defaults for method and sdkappid (protocol.md §11.1–2).
    #[must_use]
    pub fn new(conn_id: ConnId, expiry: Expiry) -> Self {
        Self {
            method: SignMethod::default(),
            sdk_app_id: SdkAppId::default(),
            conn_id,
            expiry,
        }
    }

    /// Sets the sign method.
    #[must_use]
    pub fn with_method(mut self, method: SignMethod) -> Self {
        self.method = method;
        self
    }

    /// Sets the sdkappid.
    #[must_use]
    pub fn with_sdk_app_id(mut self, sdk_app_id: SdkAppId) -> Self {
        self.sdk_app_id = sdk_app_id;
        self
    }
}

/// A device's identity: `ProductId`, `DeviceName` and PSK, all validated.
///
/// `Debug` does not show the PSK.
#[derive(Clone)]
pub struct DeviceIdentity<'a> {
    product_id: &'a str,
    device_name: &'a str,
    psk: Psk,
}

impl<'a> DeviceIdentity<'a> {
    /// Validates the identifiers ([`validate_product_id`], [`validate_device_name`]) and decodes
    /// the base64 PSK ([`Psk::from_base64`]).
    ///
    /// # Errors
    ///
    /// Any of the errors of those three functions, checked in that order.
    ///
    /// ```
    /// use iot_core::credentials::{CredentialsError, DeviceIdentity};
    /// assert!(DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==").is_ok());
    /// assert_eq!(
    ///     DeviceIdentity::new("CS0SLTKSYA", "dev1", "").err(),
    ///     Some(CredentialsError::PskEmpty)
    /// );
    /// ```
    pub fn new(
        product_id: &'a str,
        device_name: &'a str,
        psk_base64: &str,
    ) -> Result<Self, CredentialsError> {
        validate_product_id(product_id)?;
        validate_device_name(device_name)?;
        let psk = Psk::from_base64(psk_base64)?;
        Ok(Self {
            product_id,
            device_name,
            psk,
        })
    }

    /// Like [`DeviceIdentity::new`] with an already decoded PSK.
    ///
    /// # Errors
    ///
    /// The errors of [`validate_product_id`] and [`validate_device_name`].
    ///
    /// ```
    /// use iot_core::credentials::{DeviceIdentity, Psk};
    /// let psk = Psk::from_bytes(&[7; 16])?;
    /// let device = DeviceIdentity::with_psk("CS0SLTKSYA", "dev1", psk)?;
    /// assert_eq!(device.device_name(), "dev1");
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    pub fn with_psk(
        product_id: &'a str,
        device_name: &'a str,
        psk: Psk,
    ) -> Result<Self, CredentialsError> {
        validate_product_id(product_id)?;
        validate_device_name(device_name)?;
        Ok(Self {
            product_id,
            device_name,
            psk,
        })
    }

    /// The `ProductId`.
    ///
    /// ```
    /// # use iot_core::credentials::DeviceIdentity;
    /// let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
    /// assert_eq!(device.product_id(), "CS0SLTKSYA");
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub const fn product_id(&self) -> &'a str {
        self.product_id
    }

    /// The `DeviceName`.
    ///
    /// ```
    /// # use iot_core::credentials::DeviceIdentity;
    /// let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
    /// assert_eq!(device.device_name(), "dev1");
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub const fn device_name(&self) -> &'a str {
        self.device_name
    }

    /// The decoded PSK.
    ///
    /// ```
    /// # use iot_core::credentials::DeviceIdentity;
    /// let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
    /// assert_eq!(device.psk().byte_len(), 16);
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    #[must_use]
    pub const fn psk(&self) -> &Psk {
        &self.psk
    }

    /// The MQTT client id, `{ProductId}{DeviceName}` (protocol.md §3.2 step 1).
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Capacity`], which validated identifiers never cause.
    ///
    /// ```
    /// # use iot_core::credentials::DeviceIdentity;
    /// let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
    /// assert_eq!(device.client_id()?, "CS0SLTKSYAdev1");
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    pub fn client_id(&self) -> Result<String<CLIENT_ID_CAPACITY>, CredentialsError> {
        let mut client_id = String::new();
        write!(client_id, "{}{}", self.product_id, self.device_name).map_err(|_| {
            CredentialsError::Capacity {
                field: Field::ClientId,
                capacity: CLIENT_ID_CAPACITY,
            }
        })?;
        Ok(client_id)
    }

    /// Builds client id, username and password (protocol.md §3.2 steps 1–5). Does not allocate.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Capacity`], which inputs within the documented bounds never cause.
    ///
    /// ```
    /// use iot_core::credentials::{ConnId, DeviceIdentity, Expiry, SdkAppId, SignMethod, SignOptions};
    /// let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==")?;
    /// # #[cfg(feature = "hmac-sha1")] {
    /// let options = SignOptions::new(ConnId::new("Xy7Qp")?, Expiry::Never)
    ///     .with_method(SignMethod::HmacSha1)
    ///     .with_sdk_app_id(SdkAppId::OFFICIAL_SDK);
    /// let creds = device.sign(&options)?;
    /// assert_eq!(creds.username(), "CS0SLTKSYAdev1;21010406;Xy7Qp;2147483647");
    /// assert_eq!(creds.password(), "ca0c851caae3b5684649e361961c8aee1937b967;hmacsha1");
    /// # }
    /// # Ok::<(), iot_core::credentials::CredentialsError>(())
    /// ```
    pub fn sign(&self, options: &SignOptions) -> Result<MqttCredentials, CredentialsError> {
        let client_id = self.client_id()?;
        let mut username: String<USERNAME_CAPACITY> = String::new();
        write!(
            username,
            "{};{};{};{}",
            client_id,
            options.sdk_app_id,
            options.conn_id,
            options.expiry.unix_seconds()
        )
        .map_err(|_| CredentialsError::Capacity {
            field: Field::Username,
            capacity: USERNAME_CAPACITY,
        })?;
        // protocol.md §3.2 steps 4–5: lowercase hex of the HMAC, then ";" and the method.
        let mac = self.psk.hmac(options.method, username.as_bytes());
        let mut password: String<PASSWORD_CAPACITY> = String::new();
        write!(password, "{};{}", mac, options.method).map_err(|_| CredentialsError::Capacity {
            field: Field::Password,
            capacity: PASSWORD_CAPACITY,
        })?;
        Ok(MqttCredentials {
            client_id,
            username,
            password,
        })
    }
}

impl fmt::Debug for DeviceIdentity<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("product_id", &self.product_id)
            .field("device_name", &self.device_name)
            .field("psk", &self.psk)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for DeviceIdentity<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "DeviceIdentity {{ product_id: {=str}, device_name: {=str}, psk: {} }}",
            self.product_id,
            self.device_name,
            self.psk
        );
    }
}

/// The signed client id, username and password for MQTT CONNECT.
///
/// `Debug` and `defmt::Format` hide the password.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttCredentials {
    client_id: String<CLIENT_ID_CAPACITY>,
    username: String<USERNAME_CAPACITY>,
    password: String<PASSWORD_CAPACITY>,
}

impl MqttCredentials {
    /// The MQTT client id, `{ProductId}{DeviceName}`.
    ///
    /// See [`DeviceIdentity::sign`] for an example.
    #[must_use]
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The MQTT username, `{client id};{sdkappid};{connid};{expiry}`.
    ///
    /// See [`DeviceIdentity::sign`] for an example.
    #[must_use]
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The MQTT password, `{hex hmac};{method}`. Keep it out of logs.
    ///
    /// See [`DeviceIdentity::sign`] for an example.
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for MqttCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttCredentials")
            .field("client_id", &self.client_id.as_str())
            .field("username", &self.username.as_str())
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for MqttCredentials {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "MqttCredentials {{ client_id: {=str}, username: {=str}, password: <redacted> }}",
            self.client_id.as_str(),
            self.username.as_str()
        );
    }
}

/// A parsed username, `{client id};{sdkappid};{connid};{expiry}`, for the verifying side.
///
/// ```
/// use iot_core::credentials::{SdkAppId, Username};
/// let user = Username::parse("CS0SLTKSYAdev1;12010126;ZR5GT;2623045740")?;
/// assert_eq!(user.client_id(), "CS0SLTKSYAdev1");
/// assert_eq!(user.sdk_app_id(), SdkAppId::DEFAULT);
/// assert_eq!(user.conn_id(), "ZR5GT");
/// assert_eq!(user.expiry(), 2_623_045_740);
/// assert_eq!(user.device_name("CS0SLTKSYA"), Some("dev1"));
/// assert!(!user.is_expired(1_700_000_000));
/// # Ok::<(), iot_core::credentials::CredentialsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Username<'a> {
    client_id: &'a str,
    sdk_app_id: SdkAppId,
    conn_id: &'a str,
    expiry: u64,
}

impl<'a> Username<'a> {
    /// Splits and validates a username.
    ///
    /// The client id must be 1 to [`CLIENT_ID_CAPACITY`] bytes of `DeviceName` characters
    /// (`[A-Za-z0-9_\-.:@]`), the sdkappid a decimal `u32`, the connid as in [`ConnId::new`] and
    /// the expiry a decimal `u64` (milliseconds, as the Python SDK sends, fit too). Where the
    /// product id ends inside the client id is not known here; see [`Username::device_name`].
    ///
    /// # Errors
    ///
    /// [`CredentialsError::TooLong`] with [`Field::Username`] beyond [`USERNAME_CAPACITY`]
    /// bytes, [`CredentialsError::UsernameFieldCount`], [`CredentialsError::NotANumber`], or the
    /// identifier errors with [`Field::ClientId`] or [`Field::ConnId`].
    pub fn parse(username: &'a str) -> Result<Self, CredentialsError> {
        if username.len() > USERNAME_CAPACITY {
            return Err(CredentialsError::TooLong {
                field: Field::Username,
                len: username.len(),
                max: USERNAME_CAPACITY,
            });
        }
        let mut parts = username.split(';');
        let (Some(client_id), Some(sdk_app_id), Some(conn_id), Some(expiry), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(CredentialsError::UsernameFieldCount {
                found: username.split(';').count(),
            });
        };
        validate_identifier(
            Field::ClientId,
            client_id,
            CLIENT_ID_CAPACITY,
            is_device_name_byte,
        )?;
        let sdk_app_id = parse_decimal(sdk_app_id, Field::SdkAppId)
            .and_then(|n| {
                u32::try_from(n).map_err(|_| CredentialsError::NotANumber {
                    field: Field::SdkAppId,
                })
            })
            .map(SdkAppId)?;
        validate_identifier(Field::ConnId, conn_id, CONN_ID_MAX_LEN, |b| {
            b.is_ascii_alphanumeric()
        })?;
        let expiry = parse_decimal(expiry, Field::Expiry)?;
        Ok(Self {
            client_id,
            sdk_app_id,
            conn_id,
            expiry,
        })
    }

    /// The client id, `{ProductId}{DeviceName}`.
    #[must_use]
    pub const fn client_id(&self) -> &'a str {
        self.client_id
    }

    /// The sdkappid.
    #[must_use]
    pub const fn sdk_app_id(&self) -> SdkAppId {
        self.sdk_app_id
    }

    /// The connid.
    #[must_use]
    pub const fn conn_id(&self) -> &'a str {
        self.conn_id
    }

    /// The expiry as sent (Unix seconds, or whatever the client chose).
    #[must_use]
    pub const fn expiry(&self) -> u64 {
        self.expiry
    }

    /// The device name, if the client id starts with `product_id` and something follows it.
    #[must_use]
    pub fn device_name(&self, product_id: &str) -> Option<&'a str> {
        self.client_id
            .strip_prefix(product_id)
            .filter(|rest| !rest.is_empty())
    }

    /// Whether the signature has expired at `now_unix_secs` (expiry ≤ now).
    #[must_use]
    pub const fn is_expired(&self, now_unix_secs: u64) -> bool {
        self.expiry <= now_unix_secs
    }
}

/// Parses 1 to 20 ASCII digits (no sign, no spaces) as a `u64`.
fn parse_decimal(s: &str, field: Field) -> Result<u64, CredentialsError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CredentialsError::NotANumber { field });
    }
    s.parse::<u64>()
        .map_err(|_| CredentialsError::NotANumber { field })
}

/// Checks a password against a username and PSK, for the verifying side (a broker).
///
/// The password must be `{hex hmac};{method}` with `method` `hmacsha256` or `hmacsha1` and the
/// HMAC in hex (upper or lower case). The HMAC is recomputed over the username bytes exactly as
/// received and compared in constant time. This checks only the signature: parse the username
/// with [`Username::parse`] to check the client id, connid and expiry.
///
/// Returns the sign method the client used.
///
/// # Errors
///
/// [`CredentialsError::UnknownSignMethod`] (or [`CredentialsError::Sha1NotBuilt`] for `hmacsha1` without the
/// `hmac-sha1` feature), [`CredentialsError::PasswordMalformed`] or [`CredentialsError::PasswordMismatch`].
///
/// ```
/// use iot_core::credentials::{verify_password, CredentialsError, Psk, SignMethod};
/// let psk = Psk::from_base64("IyXmUW5sU/q1vnb5yzTkeQ==")?;
/// let username = "CS0SLTKSYAdev1;12010126;ZR5GT;2623045740";
/// let password = "2debdc61b009ef8d09597f106f6f8ca36f101415459b0623780a81e711e7257c;hmacsha256";
/// assert_eq!(verify_password(&psk, username, password), Ok(SignMethod::HmacSha256));
/// assert_eq!(
///     verify_password(&psk, "CS0SLTKSYAdev1;12010126;ZR5GT;2623045741", password),
///     Err(CredentialsError::PasswordMismatch)
/// );
/// # Ok::<(), CredentialsError>(())
/// ```
pub fn verify_password(
    psk: &Psk,
    username: &str,
    password: &str,
) -> Result<SignMethod, CredentialsError> {
    let (hex, method) = password
        .rsplit_once(';')
        .ok_or(CredentialsError::PasswordMalformed)?;
    let method: SignMethod = method.parse()?;
    let mut mac = [0u8; MAC_MAX_LEN];
    let mac = mac
        .get_mut(..method.mac_len())
        .ok_or(CredentialsError::PasswordMalformed)?;
    decode_hex(hex, mac)?;
    if psk.verify(method, username.as_bytes(), mac) {
        Ok(method)
    } else {
        Err(CredentialsError::PasswordMismatch)
    }
}

/// Decodes exactly `out.len() * 2` hex digits into `out`.
fn decode_hex(hex: &str, out: &mut [u8]) -> Result<(), CredentialsError> {
    if hex.len() != out.len() * 2 {
        return Err(CredentialsError::PasswordMalformed);
    }
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let (Some(&hi), Some(&lo)) = (pair.first(), pair.get(1)) else {
            return Err(CredentialsError::PasswordMalformed);
        };
        *byte = (hex_value(hi)? << 4) | hex_value(lo)?;
    }
    Ok(())
}

/// Value of one hex digit.
fn hex_value(digit: u8) -> Result<u8, CredentialsError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(CredentialsError::PasswordMalformed),
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    #[test]
    fn decoded_length_is_computed_before_decoding() {
        // 68 characters with two '=' of padding decode to 49 bytes; the length is known before
        // decoding.
        let text = "A".repeat(64) + "AQ==";
        assert_eq!(
            Psk::from_base64(&text).err(),
            Some(CredentialsError::PskTooLong { len: 49 })
        );
        let text = "A".repeat(64);
        assert_eq!(Psk::from_base64(&text).map(|p| p.byte_len()), Ok(48));
    }

    #[test]
    fn bad_padding_is_reported_at_the_padding() {
        assert_eq!(
            Psk::from_base64("IyXm=W5s").err(),
            Some(CredentialsError::PskNotBase64 { offset: 4 })
        );
        assert_eq!(
            Psk::from_base64("IyXmUW5").err(),
            Some(CredentialsError::PskNotBase64 { offset: 6 })
        );
        assert_eq!(
            Psk::from_base64("====").err(),
            Some(CredentialsError::PskNotBase64 { offset: 0 })
        );
    }

    #[test]
    fn psk_debug_hides_the_key() {
        let psk = Psk::from_bytes(b"supersecretkey!!").unwrap();
        let shown = std::format!("{psk:?}");
        assert!(!shown.contains("supersecret"), "{shown}");
        assert!(shown.contains("16"), "{shown}");
    }

    #[test]
    fn credentials_debug_hides_the_password() {
        let device = DeviceIdentity::new("CS0SLTKSYA", "dev1", "IyXmUW5sU/q1vnb5yzTkeQ==").unwrap();
        let conn_id = ConnId::new("ZR5GT").unwrap();
        let creds = device
            .sign(&SignOptions::new(conn_id, Expiry::Never))
            .unwrap();
        let shown = std::format!("{creds:?}");
        let token = creds.password().split(';').next().unwrap_or_default();
        assert!(!shown.contains(token), "{shown}");
        assert!(shown.contains("CS0SLTKSYAdev1"), "{shown}");
    }

    #[test]
    fn hex_digits_decode_in_both_cases() {
        let mut out = [0u8; 2];
        assert_eq!(decode_hex("aBf0", &mut out), Ok(()));
        assert_eq!(out, [0xab, 0xf0]);
        assert_eq!(
            decode_hex("abg0", &mut out),
            Err(CredentialsError::PasswordMalformed)
        );
        assert_eq!(
            decode_hex("abf", &mut out),
            Err(CredentialsError::PasswordMalformed)
        );
    }

    #[test]
    fn random_conn_ids_use_the_whole_alphabet() {
        struct Step(u64);
        impl RngCore for Step {
            fn next_u32(&mut self) -> u32 {
                0
            }
            fn next_u64(&mut self) -> u64 {
                self.0 = self.0.wrapping_add(1);
                self.0
            }
            fn fill_bytes(&mut self, dst: &mut [u8]) {
                dst.fill(0);
            }
        }
        let mut rng = Step(0);
        let mut seen = [false; 62];
        for _ in 0..62 {
            let id = ConnId::random(&mut rng);
            assert_eq!(id.as_str().len(), CONN_ID_LEN);
            let first = id.as_str().as_bytes().first().copied().unwrap_or_default();
            if let Some(i) = CONN_ID_ALPHABET.iter().position(|&c| c == first) {
                seen[i] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
        // The largest draw still gives a valid connid.
        struct Max;
        impl RngCore for Max {
            fn next_u32(&mut self) -> u32 {
                u32::MAX
            }
            fn next_u64(&mut self) -> u64 {
                u64::MAX
            }
            fn fill_bytes(&mut self, dst: &mut [u8]) {
                dst.fill(0xff);
            }
        }
        let id = ConnId::random(&mut Max);
        assert!(ConnId::new(id.as_str()).is_ok());
    }
}

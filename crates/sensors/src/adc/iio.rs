//! Linux IIO sysfs analog input (feature `linux`).
//!
//! The kernel's IIO ADC drivers (the Raspberry Pi's ADS1115 overlay, the
//! Beaglebone ADC, ...) expose each channel under
//! `/sys/bus/iio/devices/iio:deviceN/`. The ABI
//! (`Documentation/ABI/testing/sysfs-bus-iio`) gives the voltage in millivolts
//! as `(in_voltageY_raw + in_voltageY_offset) × in_voltageY_scale`, where
//! offset and scale may be per channel or shared (`in_voltage_scale`), and the
//! offset is often absent (0).

use std::borrow::ToOwned;
use std::format;
use std::fs;
use std::path::{Path, PathBuf};
use std::string::String;

use super::AnalogInput;
use crate::ErrorKind;

/// IIO adapter errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IioError {
    /// A sysfs attribute could not be read.
    #[error("cannot read {}: {source}; check the IIO device and channel numbers and permissions", path.display())]
    Io {
        /// The attribute.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An attribute did not hold a number.
    #[error("{} holds {text:?}, not a number; is this an IIO voltage channel?", path.display())]
    Parse {
        /// The attribute.
        path: PathBuf,
        /// What it held (trimmed).
        text: String,
    },
    /// Neither `in_voltageY_scale` nor `in_voltage_scale` exists.
    #[error("no in_voltage{channel}_scale or in_voltage_scale under {}; the driver does not report a scale", device.display())]
    NoScale {
        /// The device directory.
        device: PathBuf,
        /// The channel number.
        channel: u8,
    },
}

impl crate::Error for IioError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Bus,
            Self::Parse { .. } | Self::NoScale { .. } => ErrorKind::Other,
        }
    }
}

fn read_attr(path: &Path) -> Result<f64, IioError> {
    let text = fs::read_to_string(path).map_err(|source| IioError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = text.trim();
    text.parse::<f64>().map_err(|_| IioError::Parse {
        path: path.to_path_buf(),
        text: text.to_owned(),
    })
}

/// Read the first attribute of `names` that exists under `dir`.
fn first_existing(dir: &Path, names: &[String]) -> Option<PathBuf> {
    names.iter().map(|n| dir.join(n)).find(|p| p.exists())
}

/// One IIO voltage channel. Scale and offset are read once, at
/// [`IioChannel::open`]; the raw value on every conversion.
///
/// ```
/// use sensors::adc::{iio::IioChannel, AnalogInput};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("in_voltage2_raw"), "1234\n")?;
/// std::fs::write(dir.path().join("in_voltage_scale"), "0.125000000\n")?;
/// let mut ch = IioChannel::open(dir.path(), 2)?;
/// assert!((ch.read_millivolts()? - 154.25).abs() < 1e-3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct IioChannel {
    raw: PathBuf,
    scale: f64,
    offset: f64,
}

impl IioChannel {
    /// The sysfs directory of IIO device `index`.
    #[must_use]
    pub fn device_dir(index: u32) -> PathBuf {
        PathBuf::from(format!("/sys/bus/iio/devices/iio:device{index}"))
    }

    /// Open channel `channel` of the IIO device at `device_dir`.
    ///
    /// # Errors
    ///
    /// [`IioError::NoScale`] without a scale attribute; [`IioError::Io`] or
    /// [`IioError::Parse`] if the raw value, the scale or an offset cannot be
    /// read.
    pub fn open(device_dir: impl AsRef<Path>, channel: u8) -> Result<Self, IioError> {
        let dir = device_dir.as_ref();
        let scale_path = first_existing(
            dir,
            &[
                format!("in_voltage{channel}_scale"),
                "in_voltage_scale".to_owned(),
            ],
        )
        .ok_or_else(|| IioError::NoScale {
            device: dir.to_path_buf(),
            channel,
        })?;
        let offset = match first_existing(
            dir,
            &[
                format!("in_voltage{channel}_offset"),
                "in_voltage_offset".to_owned(),
            ],
        ) {
            Some(path) => read_attr(&path)?,
            None => 0.0,
        };
        let channel = Self {
            raw: dir.join(format!("in_voltage{channel}_raw")),
            scale: read_attr(&scale_path)?,
            offset,
        };
        // Fail at open, not at the first conversion, if the channel is missing.
        read_attr(&channel.raw)?;
        Ok(channel)
    }
}

impl AnalogInput for IioChannel {
    type Error = IioError;

    fn read_millivolts(&mut self) -> Result<f32, IioError> {
        let raw = read_attr(&self.raw)?;
        Ok(((raw + self.offset) * self.scale) as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_channel_scale_and_offset_win() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("in_voltage0_raw"), "100").unwrap();
        fs::write(dir.path().join("in_voltage0_scale"), "2.0").unwrap();
        fs::write(dir.path().join("in_voltage_scale"), "99.0").unwrap();
        fs::write(dir.path().join("in_voltage0_offset"), "-10").unwrap();
        let mut ch = IioChannel::open(dir.path(), 0).unwrap();
        assert_eq!(ch.read_millivolts().unwrap(), 180.0);
        // The raw value is re-read on every conversion.
        fs::write(dir.path().join("in_voltage0_raw"), "110").unwrap();
        assert_eq!(ch.read_millivolts().unwrap(), 200.0);
    }

    #[test]
    fn missing_scale_or_channel_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("in_voltage1_raw"), "5").unwrap();
        assert!(matches!(
            IioChannel::open(dir.path(), 1),
            Err(IioError::NoScale { channel: 1, .. })
        ));
        fs::write(dir.path().join("in_voltage_scale"), "1").unwrap();
        let err = IioChannel::open(dir.path(), 3).unwrap_err();
        assert!(matches!(err, IioError::Io { .. }));
        assert_eq!(crate::Error::kind(&err), ErrorKind::Bus);
    }

    #[test]
    fn garbage_is_a_parse_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("in_voltage0_raw"), "12").unwrap();
        fs::write(dir.path().join("in_voltage_scale"), "1").unwrap();
        let mut ch = IioChannel::open(dir.path(), 0).unwrap();
        fs::write(dir.path().join("in_voltage0_raw"), "oops").unwrap();
        assert!(matches!(ch.read_millivolts(), Err(IioError::Parse { .. })));
    }
}

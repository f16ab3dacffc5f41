//! Build-time settings: the device's credentials, the broker and (feature `wifi`) the Wi-Fi network.
//!
//! They come from environment variables when the firmware is built, so nothing secret is ever committed:
//!
//! | variable | required | meaning |
//! |---|---|---|
//! | `IOT_PRODUCT_ID` | yes | the product's ID from the IoT Explorer console |
//! | `IOT_DEVICE_NAME` | yes | the device's name |
//! | `IOT_DEVICE_PSK` | yes | the device's key (base64, as the console shows it) |
//! | `IOT_BROKER_HOST` | no | broker host name or IPv4 address (default `{IOT_PRODUCT_ID}.iotcloud.tencentdevices.com`, protocol.md §2) |
//! | `IOT_BROKER_PORT` | no | broker TCP port (default 1883: key devices use plain TCP, protocol.md §2) |
//! | `WIFI_SSID`, `WIFI_PASSWORD` | with `wifi` | the Wi-Fi network to join (an empty password: an open network) |
//!
//! A missing required variable is a compile error that names it. The values are checked again at boot by the
//! runtime; the PSK is never logged.

/// The product's ID.
pub const PRODUCT_ID: &str = env!(
    "IOT_PRODUCT_ID",
    "set IOT_PRODUCT_ID to the product ID from the IoT Explorer console when building (see docs/firmware.md)"
);

/// The device's name.
pub const DEVICE_NAME: &str = env!(
    "IOT_DEVICE_NAME",
    "set IOT_DEVICE_NAME to the device name from the IoT Explorer console when building (see docs/firmware.md)"
);

/// The device's key, base64. Never logged.
pub const DEVICE_PSK: &str = env!(
    "IOT_DEVICE_PSK",
    "set IOT_DEVICE_PSK to the device key (base64) from the IoT Explorer console when building (see docs/firmware.md)"
);

/// The broker's host name or IPv4 address.
pub const BROKER_HOST: &str = match option_env!("IOT_BROKER_HOST") {
    Some(host) => host,
    None => concat!(
        env!(
            "IOT_PRODUCT_ID",
            "set IOT_PRODUCT_ID to the product ID from the IoT Explorer console when building (see docs/firmware.md)"
        ),
        ".iotcloud.tencentdevices.com"
    ),
};

/// The broker's TCP port.
pub const BROKER_PORT: u16 = match option_env!("IOT_BROKER_PORT") {
    Some(port) => parse_port(port),
    None => 1883,
};

/// The Wi-Fi network's name.
#[cfg(feature = "wifi")]
pub const WIFI_SSID: &str = env!(
    "WIFI_SSID",
    "set WIFI_SSID to the Wi-Fi network's name when building with the wifi feature"
);

/// The Wi-Fi network's password (empty for an open network). Never logged.
#[cfg(feature = "wifi")]
pub const WIFI_PASSWORD: &str = env!(
    "WIFI_PASSWORD",
    "set WIFI_PASSWORD to the Wi-Fi password (empty for an open network) when building with the wifi feature"
);

/// Parses a decimal port at compile time; a bad value stops the build.
const fn parse_port(text: &str) -> u16 {
    let bytes = text.as_bytes();
    assert!(
        !bytes.is_empty() && bytes.len() <= 5,
        "IOT_BROKER_PORT must be a port number, 1 to 65535"
    );
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let digit = bytes[i];
        assert!(
            digit.is_ascii_digit(),
            "IOT_BROKER_PORT must be a port number, 1 to 65535"
        );
        value = value * 10 + (digit - b'0') as u32;
        i += 1;
    }
    assert!(
        value >= 1 && value <= 65535,
        "IOT_BROKER_PORT must be a port number, 1 to 65535"
    );
    value as u16
}

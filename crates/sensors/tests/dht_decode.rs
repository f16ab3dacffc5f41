//! The DHT frame decoders: any 5 bytes give a reading or a typed error, and a
//! reading survives an encode/decode round trip.

use proptest::prelude::*;
use sensors::dht11::{checksum, decode, decode_dht22, encode, Error, Model, Reading};
use sensors::{Error as _, ErrorKind};

#[test]
fn dht11_examples() {
    // Datasheet-style frame: 35 %RH, 24 °C, no tenths.
    assert_eq!(
        decode([35, 0, 24, 0, 59]).unwrap(),
        Reading {
            humidity_permille: 350,
            temperature_decicelsius: 240
        }
    );
    // Tenths kept: 52.0 %RH, 26.8 °C.
    assert_eq!(decode([52, 0, 26, 8, 86]).unwrap().temperature_c(), 26.8);
    let err = decode([52, 0, 26, 8, 87]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Checksum);
}

#[test]
fn a_dht22_frame_is_implausible_as_dht11() {
    let bytes = [0x02, 0x8C, 0x01, 0x5F, 0xEE];
    assert_eq!(
        decode_dht22(bytes).unwrap(),
        Reading {
            humidity_permille: 652,
            temperature_decicelsius: 351
        }
    );
    let err = Model::Dht11.decode(bytes).unwrap_err();
    assert_eq!(err, Error::Implausible { bytes });
    assert_eq!(err.kind(), ErrorKind::OutOfRange);
}

proptest! {
    #[test]
    fn any_frame_decodes_or_errs(bytes in any::<[u8; 5]>()) {
        for model in [Model::Dht11, Model::Dht22] {
            match model.decode(bytes) {
                Ok(r) => {
                    prop_assert!(r.humidity_permille <= 1000);
                    prop_assert!((-400..=800).contains(&r.temperature_decicelsius));
                    prop_assert_eq!(checksum([bytes[0], bytes[1], bytes[2], bytes[3]]), bytes[4]);
                }
                Err(Error::Checksum { expected, actual }) => {
                    prop_assert_eq!(actual, bytes[4]);
                    prop_assert_ne!(expected, actual);
                }
                Err(Error::Implausible { bytes: b }) => prop_assert_eq!(b, bytes),
                Err(other) => prop_assert!(false, "unexpected {:?}", other),
            }
        }
    }

    #[test]
    fn dht11_encode_decode_round_trip(h in 0u16..=1000, t in -400i16..=800) {
        let r = Reading { humidity_permille: h, temperature_decicelsius: t };
        prop_assert_eq!(decode(encode(r).unwrap()).unwrap(), r);
    }
}

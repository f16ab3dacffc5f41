//! One full conversion of the reference node: four MQ voltages to ppm (with the
//! MQ-135 correction) and one DHT11 frame to °C/%RH, through the public API.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use sensors::adc::AnalogInput;
use sensors::dht11;
use sensors::mq::{self, Config, MqSensor, R0};
use sensors::suite::{EnvironmentSensors, GasSensorId, Suite};
use sensors::{Climate, ClimateSensor, ErrorKind};

struct Fixed(f32);

impl AnalogInput for Fixed {
    type Error = ErrorKind;
    fn read_millivolts(&mut self) -> Result<f32, ErrorKind> {
        Ok(black_box(self.0))
    }
}

/// Decodes a fixed DHT11 frame on every read.
struct Frame([u8; 5]);

impl ClimateSensor for Frame {
    type Error = dht11::Error<core::convert::Infallible>;
    async fn read_climate(&mut self, _now_ms: u64) -> Result<Climate, Self::Error> {
        dht11::decode(black_box(self.0)).map(|r| r.climate())
    }
}

fn poll_ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the fixed inputs never wait"),
    }
}

fn conversion(c: &mut Criterion) {
    let mut group = c.benchmark_group("conversion");

    group.bench_function("math_4mq_dht11", |b| {
        let circuit = mq::Circuit::DEFAULT;
        let r0 = 10_000.0;
        b.iter(|| {
            let reading = dht11::decode(black_box([45, 0, 23, 4, 72])).map_err(|_| ())?;
            let climate = reading.climate();
            let mut total = 0.0;
            for (mv, curve) in [
                (1000.0, mq::mq2::LPG.curve),
                (1100.0, mq::mq4::CH4.curve),
                (300.0, mq::mq7::CO.curve),
            ] {
                let rs = circuit.rs_ohms(black_box(mv)).map_err(|_| ())?;
                total += mq::ppm(rs / r0, curve).map_err(|_| ())?;
            }
            let rs = circuit.rs_ohms(black_box(1500.0)).map_err(|_| ())?;
            let cf = mq::mq135::correction_factor(climate.temperature_c, climate.humidity_pct);
            total += mq::ppm(rs / cf / r0, mq::mq135::CO2.curve).map_err(|_| ())?;
            Ok::<f32, ()>(total)
        });
    });

    group.bench_function("suite_sample", |b| {
        let mut suite = Suite::new(
            MqSensor::new(Fixed(1000.0), Config::new(mq::MQ2), 0),
            MqSensor::new(Fixed(1100.0), Config::new(mq::MQ4), 0),
            MqSensor::new(Fixed(300.0), Config::new(mq::MQ7), 0),
            MqSensor::new(Fixed(1500.0), Config::new(mq::MQ135), 0),
            Frame([45, 0, 23, 4, 72]),
        );
        for sensor in GasSensorId::ALL {
            if let Ok(r0) = R0::from_kilohms(10.0) {
                suite.restore_r0(sensor, r0);
            }
        }
        let mut now = 200_000u64;
        b.iter(|| {
            now += 1_000;
            poll_ready(suite.sample(black_box(now)))
        });
    });

    group.finish();
}

criterion_group!(benches, conversion);
criterion_main!(benches);

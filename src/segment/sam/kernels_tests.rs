//! The CPU kernels against candle's own operations and against erf in f64.

use super::kernels::*;
use candle_core::{Device, Tensor};

/// The largest absolute difference between two tensors of one shape.
fn worst(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .unwrap()
        .abs()
        .unwrap()
        .max_all()
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

#[test]
fn both_match_candles_convolutions() {
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (2, 5, 9, 8), &dev).unwrap();
    let w = Tensor::randn(0f32, 1.0, (5, 1, 3, 3), &dev).unwrap();
    let b = Tensor::randn(0f32, 1.0, 5, &dev).unwrap();
    for (stride, act) in [(1, false), (2, false), (1, true), (2, true)] {
        let ours = depthwise3x3(&x, &w, &b, stride, act).unwrap();
        let mut theirs = x
            .conv2d(&w, 1, stride, 1, 5)
            .unwrap()
            .broadcast_add(&b.reshape((1, 5, 1, 1)).unwrap())
            .unwrap();
        if act {
            theirs = theirs.gelu_erf().unwrap();
        }
        assert!(worst(&ours, &theirs) < 1e-5, "stride {stride}");
    }
    // Odd and even sizes, one column and one row.
    for (hh, ww) in [(7, 7), (1, 6), (6, 1), (2, 2)] {
        let x = Tensor::randn(0f32, 1.0, (1, 5, hh, ww), &dev).unwrap();
        for stride in [1, 2] {
            let ours = depthwise3x3(&x, &w, &b, stride, false).unwrap();
            let theirs = x
                .conv2d(&w, 1, stride, 1, 5)
                .unwrap()
                .broadcast_add(&b.reshape((1, 5, 1, 1)).unwrap())
                .unwrap();
            assert!(worst(&ours, &theirs) < 1e-5, "{hh}x{ww} s{stride}");
        }
    }
    // Dense 3x3 convolutions, both strides, odd and even sizes.
    let wd = Tensor::randn(0f32, 1.0, (4, 5, 3, 3), &dev).unwrap();
    for (hh, ww) in [(9, 8), (7, 7), (1, 6), (2, 2)] {
        let x = Tensor::randn(0f32, 1.0, (1, 5, hh, ww), &dev).unwrap();
        for stride in [1, 2] {
            let ours = conv3x3(&x, &wd, stride).unwrap();
            let theirs = x.conv2d(&wd, 1, stride, 1, 1).unwrap();
            assert!(worst(&ours, &theirs) < 1e-4, "{hh}x{ww} s{stride}");
        }
    }
    // The GELU against erf in f64, far into both tails.
    for i in -4000..=4000 {
        let x = i as f32 / 200.0;
        let z = f64::from(x) / std::f64::consts::SQRT_2;
        let exact = 0.5 * f64::from(x) * (1.0 + erf64(z));
        assert!((f64::from(gelu1(x)) - exact).abs() < 2e-6, "gelu({x})");
    }
    let w1 = Tensor::randn(0f32, 1.0, (7, 5, 1, 1), &dev).unwrap();
    let d = worst(
        &pointwise(&x, &w1).unwrap(),
        &x.conv2d(&w1, 0, 1, 1, 1).unwrap(),
    );
    assert!(d < 1e-5, "pointwise {d}");
    let g = worst(&gelu(&x).unwrap(), &x.gelu_erf().unwrap());
    assert!(g < 1e-6, "gelu {g}");
    let wt = Tensor::randn(0f32, 1.0, (5, 3, 2, 2), &dev).unwrap();
    let bias = Tensor::randn(0f32, 1.0, 3, &dev).unwrap();
    let ours = conv_transpose2x2(&x, &wt, Some(&bias)).unwrap();
    let theirs = x
        .conv_transpose2d(&wt, 0, 0, 2, 1)
        .unwrap()
        .broadcast_add(&bias.reshape((1, 3, 1, 1)).unwrap())
        .unwrap();
    assert!(worst(&ours, &theirs) < 1e-5);
}

/// erf in f64 for the test: its Taylor series below |z| = 3, else 1 − erfc(|z|) from
/// erfc's asymptotic series.
fn erf64(z: f64) -> f64 {
    if z.abs() >= 3.0 {
        let a = z.abs();
        let (mut term, mut sum) = (1.0, 1.0);
        for n in 1..=6 {
            term *= -(2.0 * n as f64 - 1.0) / (2.0 * a * a);
            sum += term;
        }
        let erfc = (-a * a).exp() / (a * std::f64::consts::PI.sqrt()) * sum;
        return (1.0 - erfc).copysign(z);
    }
    let (mut term, mut sum, mut n) = (z, z, 0.0);
    while term.abs() > 1e-17 {
        n += 1.0;
        term *= -z * z / n;
        sum += term / (2.0 * n + 1.0);
    }
    sum * 2.0 / std::f64::consts::PI.sqrt()
}

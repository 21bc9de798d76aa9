//! Colour maths that gives the same bits on every platform: sRGB transfer, OkLab, and the few
//! transcendental functions they need, written with plain arithmetic instead of the platform libm
//! (whose `powf`/`exp2` may differ by an ulp between systems and flip a rounded byte).

/// `log2(x)` for `x > 0`, from the exponent bits and an atanh series on the mantissa.
pub fn log2(x: f64) -> f64 {
    if x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    // Centre the mantissa on 1 so the series converges fast (|s| < 0.172).
    if m > std::f64::consts::SQRT_2 {
        m *= 0.5;
        e += 1;
    }
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = s * (2.0 + s2 * (2.0 / 3.0 + s2 * (0.4 + s2 * (2.0 / 7.0 + s2 * (2.0 / 9.0)))));
    e as f64 + series * std::f64::consts::LOG2_E
}

/// `2^x`, from an integer power built in the exponent bits and a Taylor series on the fraction.
pub fn exp2(x: f64) -> f64 {
    let x = x.clamp(-1000.0, 1000.0);
    let n = x.floor();
    let f = (x - n) * std::f64::consts::LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..=12 {
        term *= f / k as f64;
        sum += term;
    }
    sum * f64::from_bits(((n as i64 + 1023) as u64) << 52)
}

/// `x^y` for `x >= 0`.
pub fn pow(x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    exp2(y * log2(x))
}

/// Cube root by a bit-level first guess and Newton steps; exact enough for 8-bit colour.
pub fn cbrt(x: f32) -> f32 {
    if x <= 0.0 {
        return if x == 0.0 { 0.0 } else { -cbrt(-x) };
    }
    let mut y = f32::from_bits(x.to_bits() / 3 + 0x2a51_37a0);
    // The guess is within ~3%; two Newton steps bring it to ~1e-6, past 8-bit precision.
    for _ in 0..2 {
        y = (2.0 * y + x / (y * y)) * (1.0 / 3.0);
    }
    y
}

/// sRGB-encoded value in [0, 1] to linear light.
pub fn srgb_to_linear(c: f64) -> f64 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        pow((c + 0.055) / 1.055, 2.4)
    }
}

/// Linear light in [0, 1] to its sRGB encoding.
pub fn linear_to_srgb(c: f64) -> f64 {
    if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * pow(c, 1.0 / 2.4) - 0.055
    }
}

/// The 256 sRGB byte values in linear light.
pub fn linear_table() -> [f32; 256] {
    let mut t = [0f32; 256];
    for (v, slot) in t.iter_mut().enumerate() {
        *slot = srgb_to_linear(v as f64 / 255.0) as f32;
    }
    t
}

/// Maps linear light quantised to `one` steps per unit (index `i` is `i / one`) to the nearest
/// sRGB byte, for indices `0..len`. Built from the 255 decision thresholds, so it rounds exactly.
pub fn encode_table(one: u32, len: usize) -> Vec<u8> {
    let thresholds: Vec<f64> = (0..255)
        .map(|v| srgb_to_linear((v as f64 + 0.5) / 255.0) * one as f64)
        .collect();
    table_from_thresholds(&thresholds, len)
}

/// The byte of each index `0..len`: how many of the 255 ascending decision `thresholds` it
/// has reached.
pub fn table_from_thresholds(thresholds: &[f64], len: usize) -> Vec<u8> {
    let mut out = vec![255u8; len];
    let mut level = 0usize;
    for (i, slot) in out.iter_mut().enumerate() {
        while level < 255 && i as f64 >= thresholds[level] {
            level += 1;
        }
        *slot = level as u8;
    }
    out
}

/// A colour in OkLab (Björn Ottosson's perceptual space): lightness and two opponent axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lab {
    pub l: f32,
    pub a: f32,
    pub b: f32,
}

/// Linear sRGB to OkLab.
pub fn linear_to_oklab(r: f32, g: f32, b: f32) -> Lab {
    let l = cbrt(0.412_221_46 * r + 0.536_332_55 * g + 0.051_445_995 * b);
    let m = cbrt(0.211_903_5 * r + 0.680_699_5 * g + 0.107_396_96 * b);
    let s = cbrt(0.088_302_46 * r + 0.281_718_85 * g + 0.629_978_7 * b);
    Lab {
        l: 0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        a: 1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        b: 0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    }
}

/// OkLab to linear sRGB (may leave [0, 1] for colours outside the sRGB gamut).
pub fn oklab_to_linear(c: Lab) -> [f32; 3] {
    let l = c.l + 0.396_337_78 * c.a + 0.215_803_76 * c.b;
    let m = c.l - 0.105_561_346 * c.a - 0.063_854_17 * c.b;
    let s = c.l - 0.089_484_18 * c.a - 1.291_485_5 * c.b;
    let (l, m, s) = (l * l * l, m * m * m, s * s * s);
    [
        4.076_741_7 * l - 3.307_711_6 * m + 0.230_969_94 * s,
        -1.268_438 * l + 2.609_757_4 * m - 0.341_319_38 * s,
        -0.004_196_086_3 * l - 0.703_418_6 * m + 1.707_614_7 * s,
    ]
}

/// An sRGB byte triple to OkLab.
pub fn srgb8_to_oklab(rgb: [u8; 3]) -> Lab {
    let f = |v: u8| srgb_to_linear(v as f64 / 255.0) as f32;
    linear_to_oklab(f(rgb[0]), f(rgb[1]), f(rgb[2]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcendental_functions_match_std_closely() {
        for &x in &[1e-6, 0.003, 0.25, 0.5, 0.99, 1.0, 3.7, 1234.5] {
            assert!((log2(x) - x.log2()).abs() < 1e-9, "log2 {x}");
            assert!((pow(x, 2.4) / x.powf(2.4) - 1.0).abs() < 1e-9, "pow {x}");
            let c = cbrt(x as f32);
            assert!((c / (x as f32).cbrt() - 1.0).abs() < 2e-6, "cbrt {x}");
        }
        for &x in &[-3.5, -0.5, 0.0, 0.3, 1.0, 2.75] {
            assert!((exp2(x) / x.exp2() - 1.0).abs() < 1e-12, "exp2 {x}");
        }
    }

    #[test]
    fn encode_table_inverts_the_transfer_function() {
        let one = 1 << 15;
        let enc = encode_table(one, one as usize + 1);
        let lin = linear_table();
        for (v, &l) in lin.iter().enumerate() {
            let i = (l as f64 * one as f64).round() as usize;
            assert_eq!(enc[i] as usize, v);
        }
    }

    #[test]
    fn oklab_round_trips_and_white_is_neutral() {
        let w = srgb8_to_oklab([255, 255, 255]);
        assert!((w.l - 1.0).abs() < 1e-3 && w.a.abs() < 1e-3 && w.b.abs() < 1e-3);
        let c = linear_to_oklab(0.2, 0.5, 0.1);
        let back = oklab_to_linear(c);
        for (x, y) in back.iter().zip([0.2, 0.5, 0.1]) {
            assert!((x - y).abs() < 1e-4);
        }
    }
}

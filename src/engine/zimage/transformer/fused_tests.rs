//! A CPU model of fused.cu's math, step for step (the blocks' key ranges, the tiles each warp
//! skips or masks, the online softmax in log2 units, P rounded to bf16, the per-row sums),
//! checked against the unfused path the engine runs everywhere else. It checks the algorithm;
//! the CUDA code itself has not run here.

use super::super::block::{f32_values as values, segmented_attention as unfused_attention};
use super::{KEY_TILE, SEGMENT_MULTIPLE};
use candle_core::{DType, Device, Tensor};
use half::bf16;

const HD: usize = super::HEAD_DIM;
/// Query rows per warp and per block, as fused.cu's 16 and BR.
const WARP_ROWS: usize = 16;
const BLOCK_ROWS: usize = 64;

fn round(x: f32) -> f32 {
    bf16::from_f32(x).to_f32()
}

fn rand(seed: u64, n: usize, amp: f32) -> Vec<f32> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            round(((x >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * amp)
        })
        .collect()
}

/// zimage_qk_norm_rope on x [rows, heads·HD] (bf16 values), w [HD], cos/sin [rows, HD/2].
fn model_norm_rope(x: &[f32], heads: usize, w: &[f32], cos: &[f32], sin: &[f32]) -> Vec<f32> {
    let width = heads * HD;
    let mut out = vec![0f32; x.len()];
    for (row, (src, dst)) in x.chunks(width).zip(out.chunks_mut(width)).enumerate() {
        for h in 0..heads {
            let v = &src[h * HD..(h + 1) * HD];
            let ss: f32 = v.iter().map(|a| a * a).sum();
            let scale = 1.0 / (ss / HD as f32 + 1e-5).sqrt();
            let n: Vec<f32> = v
                .iter()
                .zip(w)
                .map(|(a, w)| round(round(scale * a) * w))
                .collect();
            for j in 0..HD / 2 {
                let (c, s) = (cos[row * HD / 2 + j], sin[row * HD / 2 + j]);
                let (a, b) = (n[2 * j], n[2 * j + 1]);
                dst[h * HD + 2 * j] = round(a * c - b * s);
                dst[h * HD + 2 * j + 1] = round(a * s + b * c);
            }
        }
    }
    out
}

/// The sequence [start, end) holding row r.
fn segment_of(r: usize, ends: &[usize]) -> (usize, usize) {
    let mut start = 0;
    for &e in ends {
        if r < e {
            return (start, e);
        }
        start = e;
    }
    (start, start)
}

/// zimage_flash_attention on q, k, v [rows, heads·HD] (bf16 values) → [rows, heads·HD].
fn model_flash(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    heads: usize,
    segments: &[usize],
    scale: f32,
) -> Vec<f32> {
    let width = heads * HD;
    let rows = q.len() / width;
    let ends: Vec<usize> = segments
        .iter()
        .scan(0, |e, n| {
            *e += n;
            Some(*e)
        })
        .collect();
    let scale_log2 = (scale as f64 * std::f64::consts::LOG2_E) as f32;
    let mut out = vec![0f32; q.len()];
    for head in 0..heads {
        let at = |t: &[f32], r: usize, c: usize| t[r * width + head * HD + c];
        for first in (0..rows).step_by(BLOCK_ROWS) {
            let last = (first + BLOCK_ROWS).min(rows) - 1;
            let (kv_start, kv_end) = (segment_of(first, &ends).0, segment_of(last, &ends).1);
            for row0 in (first..=last).step_by(WARP_ROWS) {
                let (own_start, own_end) = segment_of(row0, &ends);
                for r in row0..row0 + WARP_ROWS {
                    let (mut m, mut l) = (f32::NEG_INFINITY, 0f32);
                    let mut o = [0f32; HD];
                    for kv in (kv_start..kv_end).step_by(KEY_TILE) {
                        if kv + KEY_TILE <= own_start || kv >= own_end {
                            continue;
                        }
                        let s: Vec<f32> = (kv..kv + KEY_TILE)
                            .map(|key| {
                                if key < own_start || key >= own_end {
                                    return f32::NEG_INFINITY;
                                }
                                let dot: f32 = (0..HD).map(|c| at(q, r, c) * at(k, key, c)).sum();
                                dot * scale_log2
                            })
                            .collect();
                        let m_new = s.iter().fold(m, |a, &b| a.max(b));
                        let alpha = (m - m_new).exp2();
                        m = m_new;
                        let p: Vec<f32> = s.iter().map(|x| (x - m_new).exp2()).collect();
                        l = l * alpha + p.iter().sum::<f32>();
                        for (c, oc) in o.iter_mut().enumerate() {
                            let pv: f32 = p
                                .iter()
                                .enumerate()
                                .filter(|(j, _)| kv + j < kv_end)
                                .map(|(j, pj)| round(*pj) * at(v, kv + j, c))
                                .sum();
                            *oc = *oc * alpha + pv;
                        }
                    }
                    for (c, oc) in o.iter().enumerate() {
                        out[r * width + head * HD + c] = round(oc / l);
                    }
                }
            }
        }
    }
    out
}

fn tensor(v: &[f32], shape: (usize, usize)) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape, &Device::Cpu)
        .unwrap()
        .to_dtype(DType::BF16)
        .unwrap()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn norm_rope_model_matches_the_unfused_norm_and_rope() {
    let (rows, heads) = (64, 3);
    let x = rand(1, rows * heads * HD, 4.0);
    let w = rand(2, HD, 1.5);
    let angles = rand(3, rows * HD / 2, 3.0);
    let cos: Vec<f32> = angles.iter().map(|a| a.cos()).collect();
    let sin: Vec<f32> = angles.iter().map(|a| a.sin()).collect();
    let ours = model_norm_rope(&x, heads, &w, &cos, &sin);
    // The reference's ops: x·rsqrt(mean(x²) + eps) in f32, to bf16, times the bf16 weight;
    // RoPE in f32, back to bf16.
    let t = tensor(&x, (rows, heads * HD))
        .reshape((rows, heads, HD))
        .unwrap();
    let want =
        super::super::block::head_norm(&t, &tensor(&w, (1, HD)).squeeze(0).unwrap(), 1e-5).unwrap();
    let f = |v: &[f32]| Tensor::from_vec(v.to_vec(), (rows, HD / 2), &Device::Cpu).unwrap();
    let n = want
        .transpose(0, 1)
        .unwrap()
        .unsqueeze(0)
        .unwrap()
        .contiguous()
        .unwrap();
    let r = candle_nn::rotary_emb::rope_i(&n.to_dtype(DType::F32).unwrap(), &f(&cos), &f(&sin))
        .unwrap()
        .to_dtype(DType::BF16)
        .unwrap();
    let r = r.squeeze(0).unwrap().transpose(0, 1).unwrap();
    let want = values(&r.reshape((rows, heads * HD)).unwrap());
    // One bf16 step of the largest values (|x| < 8) at most, from the order of the f32 sums.
    let d = max_diff(&ours, &want);
    assert!(d <= 8.0 / 128.0, "norm + rope: max|diff| {d}");
    let close = ours.iter().zip(&want).filter(|(a, b)| a == b).count();
    println!(
        "norm + rope model: max|diff| {d:.2e}, {close} of {} identical",
        ours.len()
    );
    assert!(
        close * 100 >= ours.len() * 99,
        "only {close} of {} identical",
        ours.len()
    );
}

#[test]
fn flash_model_matches_the_unfused_attention_over_stacked_sequences() {
    let heads = 2;
    // Block 1 (rows 64..127) holds the end of the first sequence and all of the second; the
    // third starts mid-tile of the second block's keys.
    for segments in [vec![96usize, 32, 64], vec![160], vec![32, 32]] {
        assert!(segments.iter().all(|n| n % SEGMENT_MULTIPLE == 0));
        let rows: usize = segments.iter().sum();
        let n = rows * heads * HD;
        let (q, k, v) = (rand(4, n, 2.0), rand(5, n, 2.0), rand(6, n, 2.0));
        let scale = 1.0 / (HD as f32).sqrt();
        let ours = model_flash(&q, &k, &v, heads, &segments, scale);
        let to_heads = |x: &[f32]| {
            tensor(x, (rows, heads * HD))
                .reshape((rows, heads, HD))
                .unwrap()
                .transpose(0, 1)
                .unwrap()
                .unsqueeze(0)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let o = unfused_attention(
            &to_heads(&q),
            &to_heads(&k),
            &to_heads(&v),
            scale as f64,
            &segments,
        )
        .unwrap();
        let want = values(
            &o.squeeze(0)
                .unwrap()
                .transpose(0, 1)
                .unwrap()
                .reshape((rows, heads * HD))
                .unwrap(),
        );
        let d = max_diff(&ours, &want);
        println!("flash model {segments:?}: max|diff| {d:.2e} against the unfused attention");
        // P in bf16 (2^-9 relative per weight) and the final bf16 rounding of values below ~2.
        assert!(d < 1.0 / 64.0, "{segments:?}: max|diff| {d}");
        // Attending across a sequence boundary moves rows by far more than that.
        let whole = model_flash(&q, &k, &v, heads, &[rows], scale);
        if segments.len() > 1 {
            assert!(
                max_diff(&whole, &want) > 4.0 * d.max(1e-3),
                "{segments:?}: masks had no effect"
            );
        }
    }
}

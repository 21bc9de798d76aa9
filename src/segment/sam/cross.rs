//! The two-way transformer's cross attentions between a prompt's few tokens and the image's
//! thousands, in whichever order of products costs less. A projection of the image tokens
//! costs (image tokens × dim × head width) per head; with fewer prompt tokens than the head
//! width it is cheaper to take the products through the tokens instead:
//! - tokens attending to the image: `q · (keys · Wk)ᵀ = (q · Wkᵀ) · keysᵀ`, and since each
//!   row of attention weights sums to one, `P · (keys · Wv + bv) = (P · keys) · Wv + bv`;
//! - the image attending to the tokens: `(keys · Wq) · kᵀ = keys · (Wq · kᵀ)`, and the output
//!   projection `(P · v) · Wout = P · (v · Wout)` per head.
//!
//! The sums are the reference's, grouped differently (rounding differs by about 1e-6).

use super::dense::{attention, matmul, softmax_rows, Dense, View};

/// The image side of an attention: either its projections (image tokens × heads·d), or the
/// image tokens (× dim) with what the projection adds to `keys · W` (the bias and the
/// positional encoding's share), one row per image token.
#[derive(Debug, Clone, Copy)]
pub(super) enum Side<'a> {
    Projected(View<'a>),
    Tokens { keys: &'a [f32], base: View<'a> },
}

/// Sizes: prompt tokens, image tokens, heads, head width.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    pub t: usize,
    pub n: usize,
    pub heads: usize,
    pub d: usize,
}

impl Shape {
    /// Whether the products are cheaper through the prompt's tokens.
    pub fn through_tokens(&self) -> bool {
        self.t <= self.d
    }
}

/// The image side's projection by `w`, made if it was not.
fn projected(w: &Dense, side: Side, n: usize) -> Vec<f32> {
    match side {
        Side::Projected(v) => (0..n)
            .flat_map(|r| (0..w.dout).map(move |c| v.data[r * v.rs + c * v.cs]))
            .collect(),
        Side::Tokens { keys, base } => {
            let mut out: Vec<f32> = (0..n)
                .flat_map(|r| base.data[r * base.rs..r * base.rs + w.dout].iter().copied())
                .collect();
            w.onto(keys, n, &mut out);
            out
        }
    }
}

/// Tokens attending to the image: `q` (t × heads·d) already projected; keys by `wk` over
/// `k`, values by `wv` over `v` (for `Side::Tokens`, `v`'s base is only `wv`'s bias).
/// Returns (t × heads·d), heads side by side.
pub(super) fn tokens_to_image(
    q: &[f32],
    (wk, k): (&Dense, Side),
    (wv, v): (&Dense, Side),
    s: Shape,
) -> Vec<f32> {
    let (t, n, heads, d) = (s.t, s.n, s.heads, s.d);
    let inner = heads * d;
    let qv = View::rows(q, inner);
    let keys = match (k, s.through_tokens()) {
        (Side::Tokens { keys, base }, true) => Some((keys, base)),
        _ => None,
    };
    let Some((keys, kbase)) = keys else {
        let (kp, vp);
        let (kv, vv) = match (k, v) {
            (Side::Projected(a), Side::Projected(b)) => (a, b),
            _ => {
                (kp, vp) = (projected(wk, k, n), projected(wv, v, n));
                (View::rows(&kp, inner), View::rows(&vp, inner))
            }
        };
        return attention(qv, kv, vv, (t, n), heads, d);
    };
    let c = wk.din;
    let scale = 1.0 / (d as f32).sqrt();
    // Per head, q · Wkᵀ: (heads·t × c).
    let mut qw = vec![0f32; heads * t * c];
    for h in 0..heads {
        let o = h * d;
        matmul(
            &mut qw[h * t * c..],
            c,
            false,
            qv.at(o),
            wk.view().at(o).t(),
            (t, c, d),
            1.0,
        );
    }
    // Scores (heads·t × n): (q · Wkᵀ) · keysᵀ plus q · baseᵀ.
    let mut p = vec![0f32; heads * t * n];
    let kv = View::rows(keys, c);
    matmul(
        &mut p,
        n,
        false,
        View::rows(&qw, c),
        kv.t(),
        (heads * t, n, c),
        scale,
    );
    for h in 0..heads {
        let o = h * d;
        matmul(
            &mut p[h * t * n..],
            n,
            true,
            qv.at(o),
            kbase.at(o).t(),
            (t, n, d),
            scale,
        );
    }
    softmax_rows(&mut p, n);
    // (P · keys) · Wv + bv.
    let mut pk = vec![0f32; heads * t * c];
    matmul(
        &mut pk,
        c,
        false,
        View::rows(&p, n),
        kv,
        (heads * t, c, n),
        1.0,
    );
    let mut out = wv.b.repeat(t);
    for h in 0..heads {
        let o = h * d;
        let pkh = View::rows(&pk[h * t * c..], c);
        matmul(
            &mut out[o..],
            inner,
            true,
            pkh,
            wv.view().at(o),
            (t, d, c),
            1.0,
        );
    }
    out
}

/// The image attending to the tokens, added to `dst` (n × dim, the residual already there):
/// queries by `wq` over `q`; `k` and `v` (t × heads·d) already projected; the output through
/// `wout` and its bias.
pub(super) fn image_to_tokens(
    (wq, q): (&Dense, Side),
    k: &[f32],
    v: &[f32],
    wout: &Dense,
    s: Shape,
    dst: &mut [f32],
) {
    let (t, n, heads, d) = (s.t, s.n, s.heads, s.d);
    let inner = heads * d;
    let (kv, vv) = (View::rows(k, inner), View::rows(v, inner));
    if !s.through_tokens() {
        let qp;
        let qv = match q {
            Side::Projected(a) => a,
            Side::Tokens { .. } => {
                qp = projected(wq, q, n);
                View::rows(&qp, inner)
            }
        };
        let a = attention(qv, kv, vv, (n, t), heads, d);
        wout.residual(&a, n, dst);
        return;
    }
    let scale = 1.0 / (d as f32).sqrt();
    let width = heads * t;
    // Scores (n × heads·t), each head's t columns together.
    let mut p = vec![0f32; n * width];
    let (qbase, accumulate) = match q {
        Side::Projected(qp) => (qp, false),
        Side::Tokens { keys, base } => {
            // Per head, Wq · kᵀ: (c × heads·t).
            let c = wq.din;
            let mut wk = vec![0f32; c * width];
            for h in 0..heads {
                let o = h * d;
                matmul(
                    &mut wk[h * t..],
                    width,
                    false,
                    wq.view().at(o),
                    kv.at(o).t(),
                    (c, t, d),
                    scale,
                );
            }
            matmul(
                &mut p,
                width,
                false,
                View::rows(keys, c),
                View::rows(&wk, width),
                (n, width, c),
                1.0,
            );
            (base, true)
        }
    };
    for h in 0..heads {
        let o = h * d;
        matmul(
            &mut p[h * t..],
            width,
            accumulate,
            qbase.at(o),
            kv.at(o).t(),
            (n, t, d),
            scale,
        );
    }
    softmax_rows(&mut p, t);
    // Per head, v · Wout: (heads·t × dim); then dst += P · that + bias.
    let dim = wout.dout;
    let mut vw = vec![0f32; width * dim];
    for h in 0..heads {
        let o = h * d;
        let rows = wout.view().at(o * dim);
        matmul(
            &mut vw[h * t * dim..],
            dim,
            false,
            vv.at(o),
            rows,
            (t, dim, d),
            1.0,
        );
    }
    for row in dst.chunks_exact_mut(dim) {
        row.iter_mut().zip(&wout.b).for_each(|(x, b)| *x += b);
    }
    matmul(
        dst,
        dim,
        true,
        View::rows(&p, width),
        View::rows(&vw, dim),
        (n, dim, width),
        1.0,
    );
}

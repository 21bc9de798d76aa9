//! SAM's two-way transformer on the CPU, computing what the reference `TwoWayTransformer`
//! (`segment_anything/modeling/transformer.py`) computes with less work per prompt:
//! - the image's positional encoding is fixed per model, so its share of every key and query
//!   projection (`(keys + pe) · W = keys · W + pe · W`) is computed once at load;
//! - each layer's three projections of the image tokens (the keys and values tokens attend
//!   to, and the queries the image attends with) are one matrix product;
//! - the first layer's image tokens are the same for every prompt (the image embedding plus
//!   the no-mask embedding), so its projections are made once per image ([`ImageSide`]) and
//!   each further prompt starts from them.

use super::cross::{image_to_tokens, tokens_to_image, Shape, Side};
use super::dense::{add, attention, Dense, Norm, View};
use candle_core::Result;
use candle_nn::VarBuilder;

/// One attention layer's projections.
#[derive(Debug)]
struct Attn {
    q: Dense,
    k: Dense,
    v: Dense,
    out: Dense,
}

impl Attn {
    fn load(dim: usize, downsample: usize, vb: VarBuilder) -> Result<Attn> {
        let inner = dim / downsample;
        Ok(Attn {
            q: Dense::load(dim, inner, vb.pp("q_proj"))?,
            k: Dense::load(dim, inner, vb.pp("k_proj"))?,
            v: Dense::load(dim, inner, vb.pp("v_proj"))?,
            out: Dense::load(inner, dim, vb.pp("out_proj"))?,
        })
    }
}

#[derive(Debug)]
struct Layer {
    self_attn: Attn,
    /// The self-attention's query and key projections side by side (they share an input).
    self_qk: Dense,
    norms: [Norm; 4],
    token_to_image: Attn,
    image_to_token: Attn,
    /// The image tokens' projections side by side: token-to-image keys and values, then
    /// image-to-token queries.
    image_proj: Dense,
    /// What `image_proj` adds per image token besides `keys · W`: the biases, and the
    /// positional encoding's share of the keys and queries; (tokens × 3 inner).
    image_base: Vec<f32>,
    mlp1: Dense,
    mlp2: Dense,
    skip_first_layer_pe: bool,
}

/// The transformer, with everything that depends only on the model precomputed.
#[derive(Debug)]
pub(super) struct TwoWay {
    layers: Vec<Layer>,
    final_attn: Attn,
    /// Its biases and the positional encoding's share of its keys; (tokens × 2 inner).
    final_base: Vec<f32>,
    final_norm: Norm,
    dim: usize,
    heads: usize,
    /// Image tokens (g · g).
    tokens: usize,
}

/// The first layer's image-side work for one image: its tokens and their projections.
#[derive(Debug)]
pub(super) struct ImageSide {
    keys: Vec<f32>,
    proj: Vec<f32>,
}

/// `x · W + base`: `base` holds one row of output per row of `x`.
fn project(w: &Dense, x: &[f32], rows: usize, base: &[f32]) -> Vec<f32> {
    let mut out = base.to_vec();
    w.onto(x, rows, &mut out);
    out
}

/// The positional encoding's share of a projection plus its bias, for every image token.
fn pe_share(w: &Dense, pe: &[f32], tokens: usize) -> Vec<f32> {
    w.apply(pe, tokens)
}

impl TwoWay {
    /// Loads the reference's weights (`layers.{i}.…`, `final_attn_token_to_image`,
    /// `norm_final_attn`) given the image positional encoding `pe`, (tokens × dim).
    pub fn load(
        depth: usize,
        dim: usize,
        heads: usize,
        mlp_dim: usize,
        pe: &[f32],
        vb: VarBuilder,
    ) -> Result<TwoWay> {
        let tokens = pe.len() / dim.max(1);
        let inner = dim / 2;
        let vl = vb.pp("layers");
        let mut layers = Vec::with_capacity(depth);
        for i in 0..depth {
            let v = vl.pp(i);
            let self_attn = Attn::load(dim, 1, v.pp("self_attn"))?;
            let t2i = Attn::load(dim, 2, v.pp("cross_attn_token_to_image"))?;
            let i2t = Attn::load(dim, 2, v.pp("cross_attn_image_to_token"))?;
            let image_proj = Dense::cat(&[&t2i.k, &t2i.v, &i2t.q]);
            let (k, q) = (pe_share(&t2i.k, pe, tokens), pe_share(&i2t.q, pe, tokens));
            let mut image_base = Vec::with_capacity(tokens * 3 * inner);
            for r in 0..tokens {
                image_base.extend_from_slice(&k[r * inner..(r + 1) * inner]);
                image_base.extend_from_slice(&t2i.v.b);
                image_base.extend_from_slice(&q[r * inner..(r + 1) * inner]);
            }
            let norm = |n: usize| Norm::load(dim, 1e-5, v.pp(format!("norm{n}")));
            layers.push(Layer {
                self_qk: Dense::cat(&[&self_attn.q, &self_attn.k]),
                self_attn,
                norms: [norm(1)?, norm(2)?, norm(3)?, norm(4)?],
                token_to_image: t2i,
                image_to_token: i2t,
                image_proj,
                image_base,
                mlp1: Dense::load(dim, mlp_dim, v.pp("mlp.lin1"))?,
                mlp2: Dense::load(mlp_dim, dim, v.pp("mlp.lin2"))?,
                skip_first_layer_pe: i == 0,
            });
        }
        let final_attn = Attn::load(dim, 2, vb.pp("final_attn_token_to_image"))?;
        let k = pe_share(&final_attn.k, pe, tokens);
        let mut final_base = Vec::with_capacity(tokens * 2 * inner);
        for r in 0..tokens {
            final_base.extend_from_slice(&k[r * inner..(r + 1) * inner]);
            final_base.extend_from_slice(&final_attn.v.b);
        }
        Ok(TwoWay {
            layers,
            final_attn,
            final_base,
            final_norm: Norm::load(dim, 1e-5, vb.pp("norm_final_attn"))?,
            dim,
            heads,
            tokens,
        })
    }

    /// The first layer's image side for `src` (tokens × dim): the image embedding plus the
    /// dense (no-mask) prompt embedding, one row per image token.
    pub fn image_side(&self, src: Vec<f32>) -> ImageSide {
        let proj = match self.layers.first() {
            Some(l) => project(&l.image_proj, &src, self.tokens, &l.image_base),
            None => Vec::new(),
        };
        ImageSide { keys: src, proj }
    }

    /// One prompt's `tokens` (t × dim: output tokens then sparse prompt embeddings) against
    /// the image: the tokens' outputs (t × dim) and the image tokens' (tokens × dim).
    pub fn forward(&self, image: &ImageSide, prompt: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (dim, heads, n) = (self.dim, self.heads, self.tokens);
        let inner = dim / 2;
        let t = prompt.len() / dim;
        let shape = Shape {
            t,
            n,
            heads,
            d: inner / heads,
        };
        let mut queries = prompt.to_vec();
        let mut keys: Option<Vec<f32>> = None;
        for l in &self.layers {
            let key_rows: &[f32] = keys.as_deref().unwrap_or(&image.keys);
            self.self_attention(l, prompt, &mut queries);
            // The image side: the first layer's from the cache, else the image tokens (with
            // the products through the prompt's tokens) or their projections.
            let owned;
            let (k, v, q) = match &keys {
                None => {
                    let p = View::rows(&image.proj, 3 * inner);
                    (
                        Side::Projected(p),
                        Side::Projected(p.at(inner)),
                        Side::Projected(p.at(2 * inner)),
                    )
                }
                Some(rows) if shape.through_tokens() => {
                    let b = View::rows(&l.image_base, 3 * inner);
                    let side = |o| Side::Tokens {
                        keys: rows,
                        base: b.at(o),
                    };
                    (side(0), side(inner), side(2 * inner))
                }
                Some(rows) => {
                    owned = project(&l.image_proj, rows, n, &l.image_base);
                    let p = View::rows(&owned, 3 * inner);
                    (
                        Side::Projected(p),
                        Side::Projected(p.at(inner)),
                        Side::Projected(p.at(2 * inner)),
                    )
                }
            };
            // Tokens attending to the image.
            let (t2i, i2t) = (&l.token_to_image, &l.image_to_token);
            let tq = t2i.q.apply(&add(&queries, prompt), t);
            let a = tokens_to_image(&tq, (&t2i.k, k), (&t2i.v, v), shape);
            t2i.out.residual(&a, t, &mut queries);
            l.norms[1].rows(&mut queries);
            // The MLP.
            let mut h = l.mlp1.apply(&queries, t);
            h.iter_mut().for_each(|v| *v = v.max(0.0));
            l.mlp2.residual(&h, t, &mut queries);
            l.norms[2].rows(&mut queries);
            // The image attending to the tokens.
            let ik = i2t.k.apply(&add(&queries, prompt), t);
            let iv = i2t.v.apply(&queries, t);
            let mut next = key_rows.to_vec();
            image_to_tokens((&i2t.q, q), &ik, &iv, &i2t.out, shape, &mut next);
            l.norms[3].rows(&mut next);
            keys = Some(next);
        }
        let keys = keys.unwrap_or_else(|| image.keys.clone());
        let f = &self.final_attn;
        let b = View::rows(&self.final_base, 2 * inner);
        let fq = f.q.apply(&add(&queries, prompt), t);
        let side = |o| Side::Tokens {
            keys: &keys,
            base: b.at(o),
        };
        let a = tokens_to_image(&fq, (&f.k, side(0)), (&f.v, side(inner)), shape);
        f.out.residual(&a, t, &mut queries);
        self.final_norm.rows(&mut queries);
        (queries, keys)
    }

    /// The self-attention of the prompt's tokens, then the first norm.
    fn self_attention(&self, l: &Layer, prompt: &[f32], queries: &mut Vec<f32>) {
        let (dim, heads) = (self.dim, self.heads);
        let t = prompt.len() / dim;
        let x = if l.skip_first_layer_pe {
            queries.clone()
        } else {
            add(queries, prompt)
        };
        let qk = l.self_qk.apply(&x, t);
        let v = l.self_attn.v.apply(queries, t);
        let qkv = View::rows(&qk, 2 * dim);
        let a = attention(
            qkv,
            qkv.at(dim),
            View::rows(&v, dim),
            (t, t),
            heads,
            dim / heads,
        );
        if l.skip_first_layer_pe {
            *queries = l.self_attn.out.apply(&a, t);
        } else {
            l.self_attn.out.residual(&a, t, queries);
        }
        l.norms[0].rows(queries);
    }
}

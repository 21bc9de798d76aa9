//! TinyViT's attention block: windowed self-attention with learned relative-offset biases, a
//! depthwise local convolution, and an MLP, as in the reference `TinyViTBlock`.

use super::tiny_vit::{gelu, ConvBn};
use super::window::WindowBlock;
use candle_core::{IndexOp, Module, Result, Tensor, D};
use candle_nn::{Conv2dConfig, VarBuilder};
use std::collections::HashMap;

/// Multi-head attention over one window, with a bias per head and (|dx|, |dy|) offset.
#[derive(Debug)]
struct Attention {
    norm: candle_nn::LayerNorm,
    qkv: candle_nn::Linear,
    proj: candle_nn::Linear,
    /// (heads, N, N) biases, gathered from the learned table once at load.
    bias: Tensor,
    key_dim: usize,
    num_heads: usize,
    scale: f64,
}

impl Attention {
    fn new(dim: usize, num_heads: usize, window: usize, vb: VarBuilder) -> Result<Self> {
        let key_dim = dim / num_heads;
        let norm = candle_nn::layer_norm(dim, 1e-5, vb.pp("norm"))?;
        let qkv = candle_nn::linear(dim, 3 * key_dim * num_heads, vb.pp("qkv"))?;
        let proj = candle_nn::linear(key_dim * num_heads, dim, vb.pp("proj"))?;
        // Offsets numbered in the order the reference first meets them.
        let points: Vec<(i64, i64)> = (0..window as i64)
            .flat_map(|x| (0..window as i64).map(move |y| (x, y)))
            .collect();
        let mut offsets: HashMap<(i64, i64), u32> = HashMap::new();
        let mut idxs = Vec::with_capacity(points.len() * points.len());
        for &(x1, y1) in &points {
            for &(x2, y2) in &points {
                let next = offsets.len() as u32;
                idxs.push(
                    *offsets
                        .entry(((x1 - x2).abs(), (y1 - y2).abs()))
                        .or_insert(next),
                );
            }
        }
        let table = vb.get((num_heads, offsets.len()), "attention_biases")?;
        let idxs = Tensor::new(idxs, table.device())?;
        let n = points.len();
        let bias = table.index_select(&idxs, 1)?.reshape((num_heads, n, n))?;
        Ok(Attention {
            norm,
            qkv,
            proj,
            bias,
            key_dim,
            num_heads,
            scale: 1.0 / (key_dim as f64).sqrt(),
        })
    }
}

impl Module for Attention {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, n, _) = xs.dims3()?;
        let qkv = xs.apply(&self.norm)?.apply(&self.qkv)?.reshape((
            b,
            n,
            self.num_heads,
            3 * self.key_dim,
        ))?;
        let part = |i: usize| -> Result<Tensor> {
            qkv.narrow(D::Minus1, i * self.key_dim, self.key_dim)?
                .permute((0, 2, 1, 3))?
                .contiguous()
        };
        let (q, k, v) = (part(0)?, part(1)?, part(2)?);
        let attn = (q.matmul(&k.t()?)? * self.scale)?.broadcast_add(&self.bias)?;
        let attn = candle_nn::ops::softmax_last_dim(&attn)?;
        attn.matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, n, self.num_heads * self.key_dim))?
            .apply(&self.proj)
    }
}

/// LayerNorm, then a GELU MLP.
#[derive(Debug)]
struct Mlp {
    norm: candle_nn::LayerNorm,
    fc1: candle_nn::Linear,
    fc2: candle_nn::Linear,
}

impl Module for Mlp {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        gelu(&xs.apply(&self.norm)?.apply(&self.fc1)?)?.apply(&self.fc2)
    }
}

/// One attention block working on (B, H*W, C) tokens at a fixed resolution.
#[derive(Debug)]
pub struct Block {
    attn: Attention,
    local_conv: ConvBn,
    mlp: Mlp,
    window: usize,
    resolution: usize,
    /// The same block on the CPU, over rows of tokens (see [`WindowBlock`]).
    pub(super) cpu: Option<Box<WindowBlock>>,
}

impl Block {
    pub fn new(
        dim: usize,
        resolution: usize,
        num_heads: usize,
        window: usize,
        mlp_ratio: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let attn = Attention::new(dim, num_heads, window, vb.pp("attn"))?;
        let vm = vb.pp("mlp");
        let mlp = Mlp {
            norm: candle_nn::layer_norm(dim, 1e-5, vm.pp("norm"))?,
            fc1: candle_nn::linear(dim, dim * mlp_ratio, vm.pp("fc1"))?,
            fc2: candle_nn::linear(dim * mlp_ratio, dim, vm.pp("fc2"))?,
        };
        let cfg = Conv2dConfig {
            padding: 1,
            groups: dim,
            ..Default::default()
        };
        let local_conv = ConvBn::new(dim, dim, 3, cfg, vb.pp("local_conv"))?;
        let cpu = if vb.device().is_cpu() && vb.dtype() == candle_core::DType::F32 {
            Some(Box::new(WindowBlock::load(
                (dim, num_heads, window, resolution, mlp_ratio),
                &attn.bias,
                (local_conv.weight(), local_conv.bias()),
                vb,
            )?))
        } else {
            None
        };
        Ok(Block {
            attn,
            local_conv,
            mlp,
            window,
            resolution,
            cpu,
        })
    }

    /// Attention inside each window of the (zero-padded) grid.
    fn windowed(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, l, c) = xs.dims3()?;
        let (r, ws) = (self.resolution, self.window);
        if r == ws {
            return self.attn.forward(xs);
        }
        let pad = (ws - r % ws) % ws;
        let mut x = xs.reshape((b, r, r, c))?;
        if pad > 0 {
            x = x.pad_with_zeros(1, 0, pad)?.pad_with_zeros(2, 0, pad)?;
        }
        let p = r + pad;
        let nw = p / ws;
        let x = x
            .reshape((b, nw, ws, nw, ws, c))?
            .transpose(2, 3)?
            .reshape((b * nw * nw, ws * ws, c))?;
        let x = self
            .attn
            .forward(&x)?
            .reshape((b, nw, nw, ws, ws, c))?
            .transpose(2, 3)?
            .reshape((b, p, p, c))?;
        let x = if pad > 0 {
            x.i((.., ..r, ..r))?.contiguous()?
        } else {
            x
        };
        x.reshape((b, l, c))
    }
}

impl Module for Block {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let (b, l, c) = xs.dims3()?;
        let r = self.resolution;
        let xs = (self.windowed(xs)? + xs)?;
        let xs = xs.transpose(1, 2)?.reshape((b, c, r, r))?.contiguous()?;
        let xs = self
            .local_conv
            .forward(&xs)?
            .reshape((b, c, l))?
            .transpose(1, 2)?;
        &xs + self.mlp.forward(&xs)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};
    use candle_nn::VarMap;

    /// The rows path against candle's, on random weights: padded windows, exact windows, and
    /// one window covering the grid.
    #[test]
    fn the_rows_path_computes_what_candles_does() {
        let dev = Device::Cpu;
        for (resolution, window) in [(9, 7), (14, 7), (7, 7)] {
            let (dim, heads) = (16, 2);
            let map = VarMap::new();
            let vb = VarBuilder::from_varmap(&map, DType::F32, &dev);
            Block::new(dim, resolution, heads, window, 4, vb.clone()).unwrap();
            for (name, var) in map.data().lock().unwrap().iter() {
                let r = Tensor::randn(0f32, 0.3, var.shape(), &dev).unwrap();
                let r = if name.ends_with("running_var") {
                    (r.abs().unwrap() + 0.5).unwrap()
                } else {
                    (r + 0.05).unwrap()
                };
                var.set(&r).unwrap();
            }
            let block = Block::new(dim, resolution, heads, window, 4, vb).unwrap();
            let l = resolution * resolution;
            let x = Tensor::randn(0f32, 1.0, (1, l, dim), &dev).unwrap();
            let theirs = block.forward(&x).unwrap().flatten_all().unwrap();
            let theirs = theirs.to_vec1::<f32>().unwrap();
            let rows = x.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let ours = block.cpu.as_ref().unwrap().forward(rows);
            assert_eq!(ours.len(), theirs.len());
            let worst = ours
                .iter()
                .zip(&theirs)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            let top = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!(
                top > 0.1 && worst <= 1e-4 * top.max(1.0),
                "{resolution}/{window}: {worst} of {top}"
            );
        }
    }
}

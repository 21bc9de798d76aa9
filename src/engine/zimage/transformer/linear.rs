//! The DiT's linear layers, whatever holds their weights: a dense tensor (safetensors, or a
//! float tensor of a GGUF file), a quantized GGUF tensor run by candle's quantized matmul, or
//! one dequantized just before each use; plus the side paths of applied LoRAs (low-rank
//! products, and LyCORIS LoKr's Kronecker products).

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Module, Result as CResult, Tensor};
use std::sync::Arc;

pub use crate::engine::{QuantMode, QUANT_MODE_ENV};

enum Weight {
    Dense(Tensor),
    Quantized(QMatMul, Arc<QTensor>),
    Dequantize(Arc<QTensor>),
}

/// One update added to a linear's output.
#[derive(Clone)]
pub enum SidePath {
    /// y += scale·(x·Aᵀ)·Bᵀ, with A (`down`) [rank, in] and B (`up`) [out, rank].
    LowRank {
        down: Tensor,
        up: Tensor,
        scale: f64,
    },
    /// y += scale·x·kron(W1, W2)ᵀ, with W1 [a, b], W2 [c, d], a·c = out and b·d = in, run
    /// without forming the Kronecker product: Y = W1·X·W2ᵀ per row X [b, d] of x.
    Kron { w1: Tensor, w2: Tensor, scale: f64 },
}

impl SidePath {
    fn add_to(&self, x: &Tensor, y: Tensor) -> CResult<Tensor> {
        match self {
            SidePath::LowRank { down, up, scale } => {
                let h = x.matmul(&down.t()?)?;
                y + (h.matmul(&up.t()?)? * *scale)?
            }
            SidePath::Kron { w1, w2, scale } => {
                let (a, b) = w1.dims2()?;
                let (c, d) = w2.dims2()?;
                let mut shape = x.dims().to_vec();
                let rows = x.elem_count() / (b * d);
                let xs = x.contiguous()?.reshape((rows, b, d))?;
                let t = xs.broadcast_matmul(&w2.t()?)?; // [rows, b, c]
                let t = t
                    .transpose(1, 2)?
                    .contiguous()?
                    .broadcast_matmul(&w1.t()?)?; // [rows, c, a]
                if let Some(last) = shape.last_mut() {
                    *last = a * c;
                }
                let delta = t.transpose(1, 2)?.contiguous()?.reshape(shape)?;
                y + (delta * *scale)?
            }
        }
    }
}

pub struct Linear {
    weight: Weight,
    bias: Option<Tensor>,
    dtype: DType,
    out_features: usize,
    in_features: usize,
    side: Vec<SidePath>,
}

impl Linear {
    pub fn dense(weight: Tensor, bias: Option<Tensor>) -> CResult<Linear> {
        let (o, i) = weight.dims2()?;
        Ok(Linear {
            dtype: weight.dtype(),
            weight: Weight::Dense(weight),
            bias,
            out_features: o,
            in_features: i,
            side: Vec::new(),
        })
    }

    /// A GGUF weight: float types become dense tensors in `dtype`; quantized ones run as
    /// `mode` says.
    pub fn quantized(
        q: QTensor,
        bias: Option<Tensor>,
        dtype: DType,
        mode: QuantMode,
    ) -> CResult<Linear> {
        use candle_core::quantized::GgmlDType as G;
        let (o, i) = q.shape().dims2()?;
        // candle's CPU kernels for these types take blocks in pairs (and panic on an odd
        // count); such a row, rare outside tiny models, runs dequantized instead.
        let paired = matches!(q.dtype(), G::Q4_1 | G::Q5_0 | G::Q5_1);
        let odd_row = paired && (i / q.dtype().block_size()) % 2 == 1;
        let weight = match q.dtype() {
            G::F32 | G::F16 | G::BF16 => Weight::Dense(q.dequantize(&q.device())?.to_dtype(dtype)?),
            _ => match mode {
                QuantMode::MatMul if !odd_row => {
                    let q = Arc::new(q);
                    Weight::Quantized(QMatMul::from_arc(q.clone())?, q)
                }
                _ => Weight::Dequantize(Arc::new(q)),
            },
        };
        Ok(Linear {
            weight,
            bias,
            dtype,
            out_features: o,
            in_features: i,
            side: Vec::new(),
        })
    }

    /// Puts dense, bias-free layers that share an input into one weight (their rows one after
    /// another) and leaves each layer a view of its own rows, so one matrix product gives all
    /// their outputs and the weights are held once. `None`, with nothing changed, unless every
    /// layer is dense, bias-free, and of one dtype and input width.
    pub fn fuse(parts: &mut [&mut Linear]) -> CResult<Option<Tensor>> {
        let first = match parts.first() {
            Some(p) => (p.in_features, p.dtype),
            None => return Ok(None),
        };
        let weights: Option<Vec<Tensor>> = parts
            .iter()
            .map(|p| match (&p.weight, &p.bias) {
                (Weight::Dense(w), None) if (p.in_features, p.dtype) == first => Some(w.clone()),
                _ => None,
            })
            .collect();
        let Some(weights) = weights else {
            return Ok(None);
        };
        let fused = Tensor::cat(&weights, 0)?;
        let mut offset = 0;
        for p in parts.iter_mut() {
            p.weight = Weight::Dense(fused.narrow(0, offset, p.out_features)?);
            offset += p.out_features;
        }
        Ok(Some(fused))
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }

    pub fn in_features(&self) -> usize {
        self.in_features
    }

    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The base weight as a dense tensor (dequantized for GGUF weights).
    pub fn dense_weight(&self) -> CResult<Tensor> {
        match &self.weight {
            Weight::Dense(w) => Ok(w.clone()),
            Weight::Quantized(_, q) | Weight::Dequantize(q) => {
                q.dequantize(&q.device())?.to_dtype(self.dtype)
            }
        }
    }

    /// Replaces the LoRA side paths (empty: none); the base weight is never touched.
    pub fn set_side(&mut self, side: Vec<SidePath>) {
        self.side = side;
    }

    pub fn side(&self) -> &[SidePath] {
        &self.side
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> CResult<Tensor> {
        let y = match &self.weight {
            Weight::Dense(w) => x.matmul(&w.t()?)?,
            Weight::Quantized(m, _) => m
                .forward(&x.to_dtype(DType::F32)?.contiguous()?)?
                .to_dtype(x.dtype())?,
            Weight::Dequantize(q) => {
                let w = q.dequantize(&q.device())?.to_dtype(x.dtype())?;
                x.matmul(&w.t()?)?
            }
        };
        let mut y = match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        };
        for side in &self.side {
            y = side.add_to(x, y)?;
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn rand(shape: (usize, usize)) -> Tensor {
        Tensor::randn(0f32, 1.0, shape, &Device::Cpu).unwrap()
    }

    fn same(a: &Tensor, b: &Tensor) -> bool {
        let d = (a - b).unwrap().abs().unwrap().max_all().unwrap();
        d.to_scalar::<f32>().unwrap() == 0.0
    }

    #[test]
    fn fused_layers_keep_their_outputs() {
        let x = rand((5, 8));
        let mut parts: Vec<Linear> = [4, 6, 4]
            .iter()
            .map(|&o| Linear::dense(rand((o, 8)), None).unwrap())
            .collect();
        let before: Vec<Tensor> = parts.iter().map(|l| l.forward(&x).unwrap()).collect();
        let [a, b, c] = &mut parts[..] else {
            unreachable!()
        };
        let fused = Linear::fuse(&mut [a, b, c]).unwrap().unwrap();
        assert_eq!(fused.dims(), &[14, 8]);
        let y = x.matmul(&fused.t().unwrap()).unwrap();
        let mut offset = 0;
        for (l, want) in parts.iter().zip(&before) {
            assert!(same(&l.forward(&x).unwrap(), want));
            let part = y.narrow(1, offset, l.out_features()).unwrap();
            assert!(same(&part.contiguous().unwrap(), want));
            offset += l.out_features();
        }
        // A bias, or another input width, leaves the layers as they were.
        let mut biased = Linear::dense(rand((4, 8)), Some(rand((1, 4)).squeeze(0).unwrap()));
        let mut plain = Linear::dense(rand((4, 8)), None).unwrap();
        assert!(Linear::fuse(&mut [biased.as_mut().unwrap(), &mut plain])
            .unwrap()
            .is_none());
        let mut wide = Linear::dense(rand((4, 9)), None).unwrap();
        assert!(Linear::fuse(&mut [&mut plain, &mut wide])
            .unwrap()
            .is_none());
    }
}

package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import java.util.Random;

/**
 * Adaptive LayerNorm modulation (DiT's adaLN-Zero): the condition c (B, D) becomes k vectors (B, D) —
 * shift, scale and gate for each branch:
 * <pre>
 *   [shift₁, scale₁, gate₁, …] = chunk_k( Linear(D, k·D)( SiLU(c) ) )      the Linear starts at zero
 *   modulate(x, shift, scale)  = x·(1 + scale) + shift                        per example, over every token
 * </pre>
 * Zero initialisation makes every modulated residual branch start closed (gate = 0): a DiT block starts as the
 * identity. The Linear is the child {@code 1}, its index in DiT's {@code nn.Sequential(SiLU, Linear)}.
 */
public class AdaLnModulation extends Module {
    public final Linear linear;
    public final int chunks;

    public AdaLnModulation(NDManager m, Random rng, long dim, int chunks) {
        super(m);
        this.chunks = chunks;
        linear = child("1", new Linear(m, rng, dim, chunks * dim).zeroInit());
    }

    /** c (B, D) → {@code chunks} arrays (B, D), in order. */
    public NDArray[] forward(NDArray c) {
        NDArray a = linear.forward(Nd.silu(c));
        long d = a.getShape().get(1) / chunks;
        NDArray[] out = new NDArray[chunks];
        for (int i = 0; i < chunks; i++) out[i] = a.get(":, {}:{}", i * d, (i + 1) * d);
        return out;
    }

    /** x (B, N, D)·(1 + scale) + shift, with one (shift, scale) (B, D) per example broadcast over the tokens. */
    public static NDArray modulate(NDArray x, NDArray shift, NDArray scale) {
        return x.mul(scale.expandDims(1).add(1)).add(shift.expandDims(1));
    }

    /** x (B, N, D) + gate · branch: a residual connection opened per example by gate (B, D). */
    public static NDArray gatedResidual(NDArray x, NDArray gate, NDArray branch) {
        return x.add(gate.expandDims(1).mul(branch));
    }
}

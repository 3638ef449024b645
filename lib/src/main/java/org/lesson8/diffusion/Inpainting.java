package org.lesson8.diffusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Inpainting by pasting the known region back (GLIDE §3.3, "Image Inpainting"): after every sampling step, the pixels that are kept are
 * replaced by a fresh sample of q(x_{t−1} | x_0) of the original image, and after the last step by the original
 * itself, so that outside the region to fill the result equals the original exactly:
 * <pre>
 *   x_{t−1} ← (1 − keep) ⊙ x_{t−1} + keep ⊙ ( sqrt(ᾱ_{t−1}) x_0 + sqrt(1 − ᾱ_{t−1}) z )       keep: 1 = known pixel
 * </pre>
 * Any denoiser can be sampled this way; GLIDE's inpainting model ({@code Glide.Config.withInpainting()}) also sees the
 * masked image and the mask, and so fills the region consistently with its surroundings.
 */
public final class Inpainting {
    private Inpainting() {}

    /**
     * A step callback for {@link Samplers#ddpm} or {@link Samplers#ddim} that pastes the known region into the
     * sampler's new x_{t−1} in place, then calls {@code then} (or nothing when null).
     *
     * @param process the (respaced) process the sampler runs
     * @param known   the original images x_0 (B, C, H, W), scaled as the samples
     * @param keep    (B, 1, H, W) or (B, C, H, W): 1 where the pixel is known, 0 where it is to be filled
     */
    public static Samplers.StepCallback pasteKnown(GaussianDiffusion process, NDArray known, NDArray keep,
                                                   NoiseSource noise, Samplers.StepCallback then) {
        Shape s = known.getShape();
        Shape k = keep.getShape();
        if (s.dimension() != 4 || k.dimension() != 4 || k.get(0) != s.get(0) || (k.get(1) != 1 && k.get(1) != s.get(1))
                || k.get(2) != s.get(2) || k.get(3) != s.get(3)) {
            throw new IllegalArgumentException("inpainting: expected images (B, C, H, W) and a mask (B, 1, H, W), got "
                    + s + " and " + k);
        }
        try (NDArray binary = keep.eq(0).logicalOr(keep.eq(1)).all()) {
            if (!binary.getBoolean()) {
                throw new IllegalArgumentException("inpainting: the mask must hold only 0 (fill) and 1 (keep)");
            }
        }
        if (noise == null) throw new IllegalArgumentException("inpainting needs a noise source to sample q(x_t | x_0)");
        return (index, timestep, sample, predX0) -> {
            if (!sample.getShape().equals(s)) {
                throw new IllegalArgumentException("inpainting: the samples have shape " + sample.getShape()
                        + " but the original images " + s);
            }
            NDManager m = sample.getManager();
            NDArray target = index == 0 ? known
                    : process.qSample(known, m.full(new Shape(s.get(0)), index - 1, DataType.INT64), noise.sample(m, s));
            sample.muli(keep.eq(0).toType(sample.getDataType(), false)).addi(target.mul(keep));
            if (then != null) then.onStep(index, timestep, sample, predX0);
        };
    }
}

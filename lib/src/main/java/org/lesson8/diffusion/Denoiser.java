package org.lesson8.diffusion;

import ai.djl.ndarray.NDArray;

/**
 * The network of a diffusion model, seen from the diffusion process: any function
 * {@code (x_t, t, cond) -> output}.
 * <ul>
 *   <li>{@code xt}: the noisy input, shape (B, C, ...);</li>
 *   <li>{@code t}: int64, shape (B,), the <em>original</em> timestep of each example in [0, T) (a respaced
 *       {@link GaussianDiffusion} maps its own step indices back, as improved-diffusion's SpacedDiffusion does);</li>
 *   <li>{@code cond}: the conditioning, of the model's own type {@code C} (DiT: class labels (B,) int64);</li>
 *   <li>output: (B, C, ...) = ε only (fixed variance), or (B, 2C, ...) = [ε ; v] with v in [-1, 1] for the
 *       learned variance of Nichol &amp; Dhariwal 2021 (DiT's "learn_sigma").</li>
 * </ul>
 */
@FunctionalInterface
public interface Denoiser<C> {
    NDArray apply(NDArray xt, NDArray t, C cond);
}

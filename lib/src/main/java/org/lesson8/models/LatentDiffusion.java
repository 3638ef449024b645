package org.lesson8.models;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.diffusion.ClassifierFreeGuidance;
import org.lesson8.diffusion.Denoiser;
import org.lesson8.diffusion.GaussianDiffusion;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.diffusion.Samplers;

import java.util.Random;

/**
 * Latent diffusion with a DiT (Peebles &amp; Xie 2022, §3 and §4): a {@link Vae} maps 28×28 images to 7×7×4 latents,
 * the {@link Dit} learns ε and Σ on the scaled latents with the linear-schedule {@link GaussianDiffusion#dit()},
 * sampling runs DDIM or DDPM with classifier-free guidance and decodes the result. Training and evaluation live in
 * {@link org.lesson8.lessons.DitLesson}.
 */
public final class LatentDiffusion {
    public final Vae vae;
    public final Dit dit;
    public final GaussianDiffusion diffusion = GaussianDiffusion.dit();

    public LatentDiffusion(Vae vae, Dit dit) {
        Shape want = vae.latentShape(1);
        if (dit.config.inChannels() != want.get(1) || dit.config.inputSize() != want.get(2)) {
            throw new IllegalArgumentException("the DiT expects latents (" + dit.config.inChannels() + ", " + dit.config.inputSize()
                    + ", " + dit.config.inputSize() + ") but the VAE makes " + want + ": build both from matching configs");
        }
        this.vae = vae;
        this.dit = dit;
    }

    /** [0, 1] images → [−1, 1], the range the VAE (like SD's) works in. */
    public static NDArray toSigned(NDArray unit) {
        return Nd.mul(unit, 2).sub(1);
    }

    /** [−1, 1] → [0, 1] (the range the lesson-01 ViT was trained on). */
    public static NDArray toUnit(NDArray signed) {
        return Nd.mul(signed.add(1), 0.5).clip(0, 1);
    }

    // ------------------------------------------------------------------ sampling

    /**
     * Class-conditional samples as images in [0, 1], shape (B, 1, 28, 28): DDIM (η = 0) over {@code steps} respaced
     * steps, or DDPM ancestral sampling with the learned variance when {@code ddpm}; guidance scale {@code s}
     * (1 = no guidance). The starting noise comes from {@code seed}, so the same call gives the same images.
     */
    public NDArray sample(NDManager m, int[] labels, double s, int steps, boolean ddpm, long seed,
                          Samplers.StepCallback callback) {
        GaussianDiffusion sampler = diffusion.respace(steps);
        NoiseSource noise = NoiseSource.seeded(new Random(seed));
        long[] y = new long[labels.length];
        for (int i = 0; i < y.length; i++) y[i] = labels[i];
        try (NDManager sub = m.newSubManager()) {
            NDArray xT = noise.sample(sub, vae.latentShape(labels.length));
            NDArray cond = sub.create(y);
            Denoiser<NDArray> model = s == 1.0 ? dit : ClassifierFreeGuidance.labels(dit, s, dit.nullClass());
            NDArray z = ddpm ? Samplers.ddpm(sampler, model, xT, cond, noise, false, callback)
                    : Samplers.ddim(sampler, model, xT, cond, 0, noise, false, callback);
            NDArray img = toUnit(vae.fromDiffusion(z));
            img.attach(m);
            return img;
        }
    }

    /** Decodes a scaled latent (e.g. an intermediate x̂_0 of the sampler) to an image in [0, 1]. */
    public NDArray decode(NDArray scaledLatent) {
        return toUnit(vae.fromDiffusion(scaledLatent));
    }
}

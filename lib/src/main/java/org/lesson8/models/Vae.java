package org.lesson8.models;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import static org.lesson8.nn.Nd.silu;
import org.lesson8.diffusion.NoiseSource;
import org.lesson8.nn.Conv2d;
import org.lesson8.nn.Module;

import java.util.Random;

/**
 * A small KL-regularised convolutional autoencoder, the first stage of latent diffusion (Rombach et al. 2022,
 * "AutoencoderKL"; DiT trains on the latents of Stable Diffusion's VAE). Images (B, C, H, W) in [−1, 1] are
 * encoded to a diagonal Gaussian over latents (B, z, H/4, W/4); the decoder maps a latent back to an image.
 * <pre>
 *   encoder  conv3×3 → SiLU → conv3×3/2 → SiLU → conv3×3 → SiLU → conv3×3/2 → SiLU → conv3×3 → SiLU → conv3×3 → [μ ; log σ²]
 *   decoder  conv3×3 → SiLU → conv3×3 → SiLU → up×2 conv3×3 → SiLU → conv3×3 → SiLU → up×2 conv3×3 → SiLU → conv3×3
 *   loss     Σ_pixels (x − x̂)²  +  klWeight · KL(q(z|x) ‖ N(0, I))      (per image, averaged over the batch)
 * </pre>
 * The diffusion model sees {@code z · latentScale}; {@link #measureScale} sets the scale to 1/std of the latents of
 * the training images, the role Stable Diffusion's 0.18215 plays. The scale is stored with the weights as the buffer
 * {@code latent_scale}: saved and loaded, never trained, not counted as a parameter.
 */
public class Vae extends Module {
    /** Image size and channels, latent channels, base width w (the encoder uses w, 2w, 4w), KL weight. */
    public record Config(String name, int imageSize, int channels, int latentChannels, int width, float klWeight) {
        public int latentSize() {
            return imageSize / 4;
        }
    }

    /** Fashion-MNIST: 28×28×1 → 7×7×4 (16× fewer positions, 4× fewer numbers). */
    public static Config fashion() {
        return new Config("VAE f4 z4 (Fashion-MNIST)", 28, 1, 4, 16, 1e-4f);
    }

    /** q(z | x): mean and log-variance (clamped to [−30, 20] as in LDM's DiagonalGaussianDistribution). */
    public record Posterior(NDArray mean, NDArray logVar) {
        public NDArray sample(NoiseSource noise) {
            return mean.add(Nd.mul(logVar, 0.5).exp().mul(noise.sample(mean.getManager(), mean.getShape())));
        }

        /** KL(q ‖ N(0, I)) per example, summed over latent elements: ½ Σ (μ² + σ² − 1 − log σ²). */
        public NDArray kl() {
            NDArray k = Nd.mul(mean.square().add(logVar.exp()).sub(1).sub(logVar), 0.5);
            return k.reshape(k.getShape().get(0), -1).sum(new int[] {1});
        }
    }

    /** Per-example reconstruction error (sum of squares), KL, and the batch loss. */
    public record Losses(NDArray reconstruction, NDArray kl, NDArray loss) {}

    public final Config config;
    private final Conv2d[] enc;
    private final Conv2d[] dec;
    public final NDArray latentScale;

    public Vae(NDManager m, Config c, long seed) {
        super(m);
        if (c.imageSize() % 4 != 0) {
            throw new IllegalArgumentException("the VAE downsamples by 4: image size " + c.imageSize() + " must be a multiple of 4");
        }
        this.config = c;
        Random rng = new Random(seed);
        int w = c.width(), z = c.latentChannels();
        enc = new Conv2d[] {
            child("encoder.conv_in", new Conv2d(m, rng, c.channels(), w, 3, 1, 1)),
            child("encoder.down1", new Conv2d(m, rng, w, 2 * w, 3, 2, 1)),
            child("encoder.mid1", new Conv2d(m, rng, 2 * w, 2 * w, 3, 1, 1)),
            child("encoder.down2", new Conv2d(m, rng, 2 * w, 4 * w, 3, 2, 1)),
            child("encoder.mid2", new Conv2d(m, rng, 4 * w, 4 * w, 3, 1, 1)),
            child("encoder.conv_out", new Conv2d(m, rng, 4 * w, 2 * z, 3, 1, 1)),
        };
        dec = new Conv2d[] {
            child("decoder.conv_in", new Conv2d(m, rng, z, 4 * w, 3, 1, 1)),
            child("decoder.mid1", new Conv2d(m, rng, 4 * w, 4 * w, 3, 1, 1)),
            child("decoder.up1", new Conv2d(m, rng, 4 * w, 2 * w, 3, 1, 1)),
            child("decoder.mid2", new Conv2d(m, rng, 2 * w, 2 * w, 3, 1, 1)),
            child("decoder.up2", new Conv2d(m, rng, 2 * w, w, 3, 1, 1)),
            child("decoder.conv_out", new Conv2d(m, rng, w, c.channels(), 3, 1, 1)),
        };
        latentScale = buffer("latent_scale", m.ones(new Shape(1)));
    }

    /** The latent shape of a batch: (B, z, H/4, W/4). */
    public Shape latentShape(long batch) {
        return new Shape(batch, config.latentChannels(), config.latentSize(), config.latentSize());
    }

    public Posterior encode(NDArray images) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(1) != config.channels() || s.get(2) != config.imageSize() || s.get(3) != config.imageSize()) {
            throw new IllegalArgumentException("VAE: expected images of shape (batch, " + config.channels() + ", "
                    + config.imageSize() + ", " + config.imageSize() + ") in [-1, 1] but got " + s
                    + ": resize the images to " + config.imageSize() + "×" + config.imageSize());
        }
        NDArray out = chunked(images, x -> {
            NDArray h = x;
            for (int i = 0; i < enc.length - 1; i++) h = silu(enc[i].forward(h));
            return enc[enc.length - 1].forward(h);
        });
        long z = config.latentChannels();
        NDArray mean = out.get(":, :{}", z);
        NDArray logVar = out.get(":, {}:", z).clip(-30, 20);
        return new Posterior(mean, logVar);
    }

    public NDArray decode(NDArray latents) {
        Shape s = latents.getShape();
        Shape want = latentShape(s.dimension() > 0 ? s.get(0) : 1);
        if (!s.equals(want)) {
            throw new IllegalArgumentException("VAE: expected latents of shape " + want + " (batch, channels, "
                    + config.latentSize() + ", " + config.latentSize() + ") but got " + s
                    + ": latents come from encode() of " + config.imageSize() + "×" + config.imageSize() + " images");
        }
        return chunked(latents, z -> {
            NDArray h = silu(dec[0].forward(z));
            h = silu(dec[1].forward(h));
            h = silu(dec[2].forward(Conv2d.upsample2(h)));
            h = silu(dec[3].forward(h));
            h = silu(dec[4].forward(Conv2d.upsample2(h)));
            return dec[5].forward(h);
        });
    }

    /** Largest batch run through the convolutions at once: libtorch's CPU convolution buffers grow with the batch. */
    public static final int CHUNK = 64;

    /**
     * Applies {@code f} to slices of at most {@link #CHUNK} examples and joins the results: a batch of 500 decoded at
     * once peaked at about 1.4 GB of native memory, in chunks of 64 the whole notebook stays under 0.7 GB.
     */
    static NDArray chunked(NDArray x, java.util.function.UnaryOperator<NDArray> f) {
        long b = x.getShape().get(0);
        if (b <= CHUNK) return f.apply(x);
        ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
        for (long s = 0; s < b; s += CHUNK) {
            // each chunk's intermediate arrays are released when the chunk is done (autograd keeps what it needs)
            try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
                NDArray part = f.apply(x.get("{}:{}", s, Math.min(b, s + CHUNK)));
                ai.djl.ndarray.NDScope.unregister(part);
                parts.add(part);
            }
        }
        NDArray out = ai.djl.ndarray.NDArrays.concat(parts);
        parts.close();
        return out;
    }

    /** Encodes, samples z with {@code noise}, decodes; reconstruction + klWeight · KL, averaged over the batch. */
    public Losses losses(NDArray images, NoiseSource noise) {
        Posterior q = encode(images);
        NDArray recon = decode(q.sample(noise));
        NDArray err = recon.sub(images).square();
        NDArray rec = err.reshape(err.getShape().get(0), -1).sum(new int[] {1});
        NDArray kl = q.kl();
        return new Losses(rec, kl, rec.add(Nd.mul(kl, config.klWeight())).mean());
    }

    /** Back from the diffusion model's space to images in [−1, 1] (clipped). */
    public NDArray fromDiffusion(NDArray scaledLatents) {
        return decode(Nd.div(scaledLatents, scale())).clip(-1, 1);
    }

    public float scale() {
        return latentScale.getFloat();
    }

    /** Sets {@code latent_scale} = 1 / std of the given (unscaled) latent samples; returns it. */
    public float measureScale(NDArray latentSamples) {
        float[] v = latentSamples.toFloatArray();
        double sum = 0, sq = 0;
        for (float f : v) { sum += f; sq += (double) f * f; }
        double mean = sum / v.length;
        double std = Math.sqrt(Math.max(1e-12, sq / v.length - mean * mean));
        float s = (float) (1.0 / std);
        assign("latent_scale", manager.create(new float[] {s}));
        return s;
    }

}

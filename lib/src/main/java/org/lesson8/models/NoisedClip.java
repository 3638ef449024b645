package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.data.Tokenizer;
import org.lesson8.diffusion.ClipGuidance;
import org.lesson8.nn.Module;
import org.lesson8.nn.Nd;
import org.lesson8.nn.TimestepEmbedding;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * GLIDE's noised CLIP (§3.4, "Noised CLIP models"): a {@link Clip} whose image encoder also sees the diffusion
 * timestep, so that it can judge the noisy images x_t met during sampling. It is what {@link ClipGuidance} follows.
 * <pre>
 *   f(x_t, t) = ImageEncoder.encode( tokens((x_t + 1) / 2) + TimestepEmbedding(t) ) / ‖·‖    the same vector on every token
 *   g(c)      = TextEncoder(caption) / ‖·‖                                                 CLIP's text encoder, unchanged
 *   loss      = CLIP's symmetric contrastive loss of exp(t)·f gᵀ over the pairs (x_t, t, caption)
 * </pre>
 * x_t lives in the diffusion's [−1, 1] pixel scale; (x + 1)/2 maps clean images to the [0, 1] that {@link Clip} reads.
 * The timestep embedding's last Linear starts at zero, so an untrained noised CLIP is exactly its CLIP: it can start
 * from a trained course CLIP ({@code Checkpoint.load(noised.clip, file)}) and learn the noise from there.
 * <p>Known difference from openai/glide-text2im: its image encoder has no CLS token; a learned embedding of the
 * timestep takes that place. Here the timestep embedding is added to every token and CLIP's CLS token stays.
 */
public class NoisedClip extends Module {
    public final Clip clip;
    public final TimestepEmbedding timeEmbed;

    public NoisedClip(NDManager m, Clip.Config c, Tokenizer tokenizer, long seed) {
        super(m);
        clip = child("clip", new Clip(m, c, tokenizer, seed));
        timeEmbed = child("time_embed", new TimestepEmbedding(m, new Random(seed + 1), c.visionWidth()));
        timeEmbed.fc2.zeroInit();
    }

    /** Unit-norm embeddings f(x_t, t) (B, E) of noised images x_t (B, 3, H, W); t (B,) original timesteps. */
    public NDArray embedNoised(NDArray xt, NDArray t) {
        Shape s = xt.getShape();
        if (t.getShape().dimension() != 1 || s.dimension() != 4 || t.getShape().get(0) != s.get(0)) {
            throw new IllegalArgumentException("noised CLIP: expected images (B, 3, H, W) and timesteps (B), got "
                    + s + " and " + t.getShape());
        }
        NDArray tokens = clip.visual.tokens(Nd.mul(xt, 0.5).add(Nd.scalar(xt, 0.5)));
        NDArray time = timeEmbed.forward(t).expandDims(1);
        return Clip.normalize(clip.visual.encode(tokens.add(time)));
    }

    /** Unit-norm caption embeddings g(c) (B, E) in {@code m}; an unknown word is the tokenizer's error. */
    public NDArray embedTexts(NDManager m, List<String> captions) {
        return clip.embedTexts(m, captions);
    }

    /** CLIP's contrastive loss on pairs (x_t[i], t[i], captions[i]). */
    public NDArray loss(NDManager m, NDArray xt, NDArray t, List<String> captions) {
        return Clip.contrastiveLoss(clip.logits(embedNoised(xt, t), embedTexts(m, captions)));
    }

    /**
     * The score f(x_t, t) · g(c) for CLIP guidance, one caption per example; the caption embeddings are computed once,
     * in {@code m}, which must stay open while sampling.
     */
    public ClipGuidance.Score score(NDManager m, List<String> captions) {
        NDArray g = embedTexts(m, captions).stopGradient();
        List<NDArray> imageSide = new ArrayList<>(clip.visual.parameterList());
        imageSide.addAll(timeEmbed.parameterList());
        return new ClipGuidance.Score() {
            @Override
            public NDArray of(NDArray xt, NDArray t) {
                if (xt.getShape().get(0) != g.getShape().get(0)) {
                    throw new IllegalArgumentException("CLIP guidance: " + g.getShape().get(0) + " caption(s) for a batch of "
                            + xt.getShape().get(0) + " images: give one caption per sample");
                }
                return embedNoised(xt, t).mul(g).sum(new int[] {1});
            }

            @Override
            public List<NDArray> parameters() {
                return imageSide;
            }
        };
    }
}

package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.lesson8.nn.ImageInput;
import org.lesson8.nn.Init;
import org.lesson8.nn.LayerNorm;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;
import org.lesson8.nn.MultiHeadAttention;
import org.lesson8.nn.PatchEmbedding;
import org.lesson8.nn.TransformerBlock;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Vision Transformer (Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words"), following Fig. 1:
 * <pre>
 *   patches  = Conv(kernel = stride = P)(image)            (B, N, D)
 *   z0       = [x_class ; patches] + E_pos                  (B, N+1, D)   x_class learnable (zeros at init)
 *   z_l      = z_{l-1} + MSA(LN(z_{l-1}));  z_l += MLP(LN(z_l))            pre-LN encoder, l = 1..L
 *   y        = Head(LN(z_L[:, 0]))                                          classify from the CLS token
 * </pre>
 * No causal mask anywhere: every patch attends to every patch.
 */
public class Vit extends Module implements Classifier {
    /** A ViT configuration. {@code mlp} is the hidden width of the MLP. */
    public record Config(String name, int imageSize, int patch, int channels, int dim, int depth, int heads, int mlp, int classes) {
        public int grid() {
            return imageSize / patch;
        }

        public int tokens() {
            return grid() * grid() + 1;
        }

        /** Parameters computed from the configuration alone (no weights are allocated). */
        public long parameterCount() {
            long d = dim;
            long patchEmbed = d * channels * patch * patch + d;
            long clsAndPos = d + (long) tokens() * d;
            long block = 4 * d + (4 * d * d + 4 * d) + (d * mlp + mlp + (long) mlp * d + d);
            long head = 2 * d + d * classes + classes;
            return patchEmbed + clsAndPos + depth * block + head;
        }

        /** Multiply-adds of one forward pass of one image (matrix products only). */
        public double forwardMacs() {
            double t = tokens(), d = dim;
            double perBlock = t * (4 * d * d + 2 * d * mlp) + 2 * t * t * d;
            return depth * perBlock + (double) grid() * grid() * d * channels * patch * patch + d * classes;
        }
    }

    /** Small ViT for 28×28 Fashion-MNIST on a CPU (patch 4 → 49 patches + CLS). */
    public static Config fashionSmall() {
        return new Config("ViT-Ti/4 (Fashion-MNIST)", 28, 4, 1, 64, 6, 4, 256, 10);
    }

    /**
     * ViT-Ti/4's sizes at patch 2: a 14×14 grid, 196 patches + CLS, four times the tokens (notebook 01 looks for local heads
     * of Fig. 7 right in it; ./course train vitPatch2).
     */
    public static Config fashionPatch2() {
        return new Config("ViT-Ti/2 (Fashion-MNIST)", 28, 2, 1, 64, 6, 4, 256, 10);
    }

    /** A faster ViT for live training in class (patch 7 → 16 patches + CLS). */
    public static Config fashionTiny() {
        return new Config("ViT-Tiny/7 (Fashion-MNIST)", 28, 7, 1, 64, 4, 4, 128, 10);
    }

    public static Config base16() {
        return new Config("ViT-B/16", 224, 16, 3, 768, 12, 12, 3072, 1000);
    }

    public static Config large16() {
        return new Config("ViT-L/16", 224, 16, 3, 1024, 24, 16, 4096, 1000);
    }

    public static Config huge14() {
        return new Config("ViT-H/14", 224, 14, 3, 1280, 32, 16, 5120, 1000);
    }

    public final Config config;
    public final PatchEmbedding patchEmbed;
    public final NDArray clsToken;
    public final NDArray posEmbed;
    public final List<TransformerBlock> blocks = new ArrayList<>();
    public final LayerNorm norm;
    public final Linear head;

    /** Forward result: logits (B, classes), the final CLS feature, and each layer's attention (B, H, T, T) when asked. */
    public record Output(NDArray logits, NDArray clsFeature, List<NDArray> attentions) {}

    public Vit(NDManager m, Config c, long seed) {
        super(m);
        this.config = c;
        Random rng = new Random(seed);
        patchEmbed = child("patch_embed", new PatchEmbedding(m, rng, c.imageSize(), c.patch(), c.channels(), c.dim()));
        clsToken = param("cls_token", m.zeros(new Shape(1, 1, c.dim())), false);
        posEmbed = param("pos_embed", Init.normal(m, rng, new Shape(1, c.tokens(), c.dim()), 0.02), false);
        for (int i = 0; i < c.depth(); i++) {
            blocks.add(child("blocks." + i, new TransformerBlock(m, rng, c.dim(), c.heads(), c.mlp())));
        }
        norm = child("norm", new LayerNorm(m, c.dim(), 1e-6f, true));
        head = child("head", new Linear(m, rng, c.dim(), c.classes()).zeroInit());
    }

    /** Tokens entering the encoder: [CLS; patch embeddings] + position embedding, shape (B, N+1, D). */
    public NDArray embed(NDArray images) {
        ImageInput.require(images, "the ViT", config.channels(), false, config.imageSize());
        NDArray patches = patchEmbed.forward(images);
        return PatchEmbedding.prependToken(patches, clsToken).add(posEmbed);
    }

    public Output forward(NDArray images, boolean attentions) {
        NDArray z = embed(images);
        List<NDArray> att = attentions ? new ArrayList<>() : null;
        for (TransformerBlock blk : blocks) {
            MultiHeadAttention.Result r = blk.forward(z, false, attentions);
            z = r.out();
            if (attentions) att.add(r.weights());
        }
        NDArray cls = norm.forward(z.get(":, 0, :"));
        return new Output(head.forward(cls), cls, att);
    }

    @Override
    public NDArray logits(NDArray images) {
        return forward(images, false).logits();
    }

    /** Number of correct argmax predictions. */
    public static long correct(NDArray logits, NDArray labels) {
        return logits.argMax(1).toType(labels.getDataType(), false).eq(labels).sum().getLong();
    }
}

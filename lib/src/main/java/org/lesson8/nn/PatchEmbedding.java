package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;

import java.util.Random;

/**
 * Patch embedding as a convolution whose kernel and stride both equal the patch size P:
 * (B, C, H, W) → (B, N, D) with N = (H/P)·(W/P), patches in raster order. The same as a Linear applied to
 * {@link Patches#patchify}'s flattened patches, with the kernel (D, C, P, P) read in that order (row, column, channel).
 */
public class PatchEmbedding extends Module {
    public final NDArray weight;
    public final NDArray bias;
    public final int patch;
    public final int channels;
    public final int imageSize;
    public final long dim;

    public PatchEmbedding(NDManager m, Random rng, int imageSize, int patch, int channels, long dim) {
        super(m);
        if (imageSize % patch != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not divisible by patch size "
                    + patch + ": choose a patch size that divides the image (e.g. " + divisorHint(imageSize) + ")");
        }
        this.patch = patch;
        this.channels = channels;
        this.imageSize = imageSize;
        this.dim = dim;
        long fanIn = (long) channels * patch * patch;
        // like the reference code: the conv is initialised as a Linear over flattened patches
        weight = param("weight", Init.xavierUniform(m, rng, new Shape(dim, channels, patch, patch), fanIn, dim), true);
        bias = param("bias", m.zeros(new Shape(dim)), false);
    }

    private static String divisorHint(int n) {
        StringBuilder sb = new StringBuilder();
        for (int d = 2; d < n; d++) if (n % d == 0) sb.append(sb.length() == 0 ? "" : ", ").append(d);
        return sb.toString();
    }

    /**
     * Prepends a learned token (1, 1, D) — ViT's CLS token, CLIP's class embedding — to a patch
     * sequence (B, N, D), giving (B, N+1, D). The broadcast copy is made in the batch's manager, so
     * nothing per-step lands in the model's manager.
     */
    public static NDArray prependToken(NDArray patches, NDArray token) {
        NDArray first = patches.get(":, :1, :").zerosLike().add(token);
        return first.concat(patches, 1);
    }

    public long numPatches() {
        long g = imageSize / patch;
        return g * g;
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != channels || s.get(2) != imageSize || s.get(3) != imageSize) {
            throw new IllegalArgumentException("expected images of shape (batch, " + channels + ", " + imageSize + ", "
                    + imageSize + ") but got " + s + ": resize or crop the images to " + imageSize + "×" + imageSize
                    + " pixels with " + channels + " channel(s)");
        }
        NDArray y = Conv2d.conv2d(x, weight, bias, new Shape(patch, patch), new Shape(0, 0),
                new Shape(1, 1), 1).singletonOrThrow();
        long b = s.get(0);
        return y.reshape(b, dim, numPatches()).transpose(0, 2, 1);
    }
}

package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Images ⇄ sequences of flattened patches. Patches are taken in raster order (left to right, then top to bottom)
 * and each patch's values are ordered (row, column, channel), as in MAE and DiT:
 * <pre>
 *   (B, C, H, W) ─ patchify(p) → (B, (H/p)·(W/p), p·p·C) ─ unpatchify(p, C) → (B, C, H, W)
 * </pre>
 * For one channel this is simply each p×p patch read row by row.
 */
public final class Patches {
    private Patches() {}

    public static NDArray patchify(NDArray images, int p) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(2) % p != 0 || s.get(3) % p != 0) {
            throw new IllegalArgumentException("patchify needs images (batch, channels, H, W) with H and W divisible by "
                    + p + ", got " + s);
        }
        long b = s.get(0), c = s.get(1), h = s.get(2) / p, w = s.get(3) / p;
        return images.reshape(b, c, h, p, w, p).transpose(0, 2, 4, 3, 5, 1).reshape(b, h * w, (long) p * p * c);
    }

    /** The inverse of {@link #patchify} for a square grid of patches. */
    public static NDArray unpatchify(NDArray tokens, int p, int channels) {
        Shape s = tokens.getShape();
        long n = s.dimension() == 3 ? s.get(1) : 0;
        long g = Math.round(Math.sqrt(n));
        if (s.dimension() != 3 || g * g != n || s.get(2) != (long) p * p * channels) {
            throw new IllegalArgumentException("unpatchify expects (batch, grid², " + p * p * channels + ") for patch " + p
                    + " and " + channels + " channel(s), got " + s);
        }
        long b = s.get(0);
        return tokens.reshape(b, g, g, p, p, channels).transpose(0, 5, 1, 3, 2, 4).reshape(b, channels, g * p, g * p);
    }
}

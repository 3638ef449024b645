package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Locale;

/**
 * The one check of images entering a classifier or an image encoder (ViT, the small CNN, CLIP's image encoder and so
 * zero-shot, the caption judge, and every evaluation that calls them): float32 pixels in [0, 1] of shape
 * (batch, channels, size, size). Integer images (bytes 0–255, int32 …) and float images clearly outside [0, 1]
 * (0–255 as floats, or the [−1, 1] of the diffusion models) are refused with what to do, instead of an engine error or
 * a silently wrong answer. A little overshoot, as a decoder's samples may have, is let through: only values above
 * {@value #HIGH} or below {@value #LOW} are refused.
 */
public final class ImageInput {
    private ImageInput() {}

    /** Values above this are not [0, 1] images (0–255 as floats is the usual cause). */
    public static final float HIGH = 1.5f;
    /** Values below this are not [0, 1] images ([−1, 1] is the usual cause). */
    public static final float LOW = -0.5f;

    /**
     * Refuses {@code images} unless float32 (B, {@code channels}, {@code size}, {@code size}) with values in [0, 1]
     * (within [{@value #LOW}, {@value #HIGH}]); {@code greyToo} also accepts one channel (replicated by the caller).
     * {@code who} names the model in the message, e.g. "the ViT".
     */
    public static void require(NDArray images, String who, int channels, boolean greyToo, int size) {
        String shape = "(batch, " + (greyToo && channels != 1 ? channels + " or 1" : String.valueOf(channels)) + ", " + size + ", " + size + ")";
        String expected = who + " reads images as float32 in [0, 1] of shape " + shape;
        if (images == null) throw new IllegalArgumentException(expected + ", got null");
        Shape s = images.getShape();
        DataType t = images.getDataType();
        if (t != DataType.FLOAT32) {
            throw new IllegalArgumentException(expected + ", got " + t + " " + s + ". Convert them: "
                    + (t.isInteger() || t == DataType.BOOLEAN
                    ? "Nd.div(images.toType(DataType.FLOAT32, false), 255) for bytes 0–255 (or without the division when they are 0/1)"
                    : "images.toType(DataType.FLOAT32, false)"));
        }
        boolean channelsOk = s.dimension() == 4 && (s.get(1) == channels || greyToo && s.get(1) == 1);
        if (!channelsOk || s.get(2) != size || s.get(3) != size) {
            throw new IllegalArgumentException(expected + ", got " + s + (s.dimension() == 3 ? ": add the channel axis with "
                    + "images.expandDims(1)" : s.dimension() == 2 ? ": a single image? reshape it to (1, " + channels + ", " + size
                    + ", " + size + ")" : ": resize or crop the images to " + size + "×" + size + " pixels with " + channels + " channel(s)"));
        }
        if (s.size() == 0) return;
        float lo, hi;
        try (NDArray min = images.min(); NDArray max = images.max()) {
            lo = min.getFloat();
            hi = max.getFloat();
        }
        if (Float.isNaN(lo) || Float.isNaN(hi)) {
            throw new IllegalArgumentException(expected + ", but these contain NaN: find where the NaN came from (a diverged "
                    + "model or a division by zero)");
        }
        if (hi > HIGH) {
            throw new IllegalArgumentException(expected + ", but these go up to " + fmt(hi) + (hi > 2 ? " (bytes 0–255?)" : "")
                    + ": divide them by 255 (Nd.div(images, 255))" + (hi <= 2 ? ", or clamp them to [0, 1] (images.clip(0, 1))" : ""));
        }
        if (lo < LOW) {
            throw new IllegalArgumentException(expected + ", but these go down to " + fmt(lo) + (lo >= -1.5 ? " ([-1, 1], the diffusion "
                    + "models' scale?)" : "") + ": map [-1, 1] to [0, 1] with Nd.div(images.add(images.onesLike()), 2), or clamp them (images.clip(0, 1))");
        }
    }

    private static String fmt(float v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }
}

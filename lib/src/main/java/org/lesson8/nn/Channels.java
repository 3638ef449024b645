package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Grey images as RGB, so that Fashion-MNIST goes through the same 3-channel encoders as the scenes. */
public final class Channels {
    private Channels() {}

    /** Grey images (B, 1, H, W) as RGB (B, 3, H, W): the grey value in every channel. */
    public static NDArray greyToRgb(NDArray grey) {
        Shape s = grey.getShape();
        if (s.dimension() != 4 || s.get(1) != 1) throw new IllegalArgumentException("expected grey images (batch, 1, H, W), got " + s);
        return grey.repeat(1, 3);
    }
}

package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/** A 2-D convolution (torch.nn.Conv2d): weight (out, in, k, k), bias (out), square kernel, stride and padding. */
public class Conv2d extends Module {
    public final NDArray weight;
    public final NDArray bias;
    public final int in;
    public final int out;
    public final int kernel;
    public final int stride;
    public final int padding;

    public Conv2d(NDManager m, Random rng, int in, int out, int kernel, int stride, int padding) {
        super(m);
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        long fanIn = (long) in * kernel * kernel;
        weight = param("weight", Init.torchDefault(m, rng, new Shape(out, in, kernel, kernel), fanIn), true);
        bias = param("bias", Init.torchDefault(m, rng, new Shape(out), fanIn), false);
    }

    public NDArray forward(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != in) {
            throw new IllegalArgumentException("Conv2d expects (batch, " + in + ", H, W) but got " + s);
        }
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, weight, bias, new Shape(stride, stride),
                new Shape(padding, padding), new Shape(1, 1), 1).singletonOrThrow();
    }

    /** Nearest-neighbour upsampling by 2 on the last two axes (torch.nn.functional.interpolate, mode "nearest"). */
    public static NDArray upsample2(NDArray x) {
        return x.repeat(2, 2).repeat(3, 2);
    }
}

package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/**
 * The Gumbel-softmax (concrete) relaxation of a categorical sample (Jang et al. 2017; Maddison et al. 2017), as
 * DALL·E's dVAE uses it to train through its discrete codes (Ramesh et al. 2021, Sec. 2.1):
 * <pre>
 *   g_k = −log(−log u_k),  u_k ~ U(0, 1)                 Gumbel noise, one per logit
 *   y   = softmax((logits + g) / τ)                      a point of the simplex; τ → 0 makes it one-hot
 *   argmax_k (logits_k + g_k) ~ Categorical(softmax(logits))      the Gumbel-max trick, exact for every τ
 * </pre>
 * The hard (straight-through) variant returns the one-hot of argmax y in the forward pass and the gradient of the
 * soft y in the backward pass: {@code onehot − stopgrad(y) + y}.
 */
public final class GumbelSoftmax {
    private GumbelSoftmax() {}

    /**
     * A relaxed sample along {@code axis} of {@code logits}, in the logits' manager.
     *
     * @param tau  temperature τ &gt; 0
     * @param hard one-hot forward values with the soft gradient (straight-through)
     * @param rng  the noise comes from it on the Java side, so a seed repeats a run exactly
     */
    public static NDArray sample(NDArray logits, int axis, double tau, boolean hard, Random rng) {
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("the Gumbel-softmax temperature must be a positive number, got " + tau);
        }
        int dims = logits.getShape().dimension();
        if (axis < 0 || axis >= dims) {
            throw new IllegalArgumentException("axis " + axis + " does not exist in logits of shape " + logits.getShape());
        }
        NDArray g = noise(logits.getManager(), logits.getShape(), rng);
        NDArray y = Nd.div(logits.add(g), tau).softmax(axis);
        if (!hard) return y;
        NDArray oneHot = y.eq(y.max(new int[] {axis}, true)).toType(DataType.FLOAT32, false);
        return oneHot.sub(y.stopGradient()).add(y);
    }

    /** Independent standard Gumbel noise −log(−log u) of the given shape. */
    public static NDArray noise(NDManager m, Shape shape, Random rng) {
        long n = shape.size();
        if (n > Integer.MAX_VALUE) throw new IllegalArgumentException("noise of shape " + shape + " is too large");
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            double u = Math.max(rng.nextDouble(), Double.MIN_NORMAL);   // nextDouble() may return 0
            v[i] = (float) -Math.log(-Math.log(u));
        }
        return m.create(v, shape);
    }
}

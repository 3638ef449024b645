package org.lesson8.diffusion;

import org.lesson8.nn.Nd;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Classifier-free guidance (Ho &amp; Salimans 2021; DiT §3, GLIDE): a {@link Denoiser} that evaluates the model
 * once on a batch of 2B = [x_t with cond ; x_t with the null condition] (as DiT's {@code forward_with_cfg}) and
 * returns, for the B examples,
 * <pre>
 *   ε = ε_uncond + s · (ε_cond − ε_uncond)          s = 1: the conditional model; s = 0: the unconditional one
 *   v = v_cond                                      (the learned-variance half, if any, from the conditional half)
 * </pre>
 * Guidance acts on all C channels of ε (the paper's formula; DiT's released code guides only the first three of
 * its four latent channels by default).
 */
public final class ClassifierFreeGuidance<C> implements Denoiser<C> {
    private final Denoiser<C> model;
    private final double scale;
    private final UnaryOperator<C> nullOf;
    private final BinaryOperator<C> concat;

    /**
     * @param nullOf maps a condition of batch B to the null condition of batch B
     * @param concat joins two conditions along the batch axis
     */
    public ClassifierFreeGuidance(Denoiser<C> model, double scale, UnaryOperator<C> nullOf, BinaryOperator<C> concat) {
        this.model = model;
        this.scale = scale;
        this.nullOf = nullOf;
        this.concat = concat;
    }

    /** Guidance for class labels (an integer NDArray of shape (B,)); the null class is {@code nullLabel} (DiT: num_classes). */
    public static ClassifierFreeGuidance<NDArray> labels(Denoiser<NDArray> model, double scale, int nullLabel) {
        return new ClassifierFreeGuidance<>(model, scale, y -> {
            if (y == null || y.getShape().dimension() != 1) {
                throw new IllegalArgumentException("labels: expected an integer array of shape (B), got "
                        + (y == null ? "null" : y.getShape().toString()));
            }
            return y.getManager().full(y.getShape(), nullLabel, y.getDataType());
        }, (a, b) -> a.concat(b, 0));
    }

    public double scale() {
        return scale;
    }

    /** ε_uncond + s · (ε_cond − ε_uncond), elementwise. */
    public static NDArray guide(NDArray epsCond, NDArray epsUncond, double s) {
        if (!epsCond.getShape().equals(epsUncond.getShape())) {
            throw new IllegalArgumentException("eps_uncond: expected shape " + epsCond.getShape() + " (as eps_cond), got "
                    + epsUncond.getShape());
        }
        return epsUncond.add(Nd.mul(epsCond.sub(epsUncond), s));
    }

    @Override
    public NDArray apply(NDArray xt, NDArray t, C cond) {
        Shape xs = xt.getShape();
        long b = xs.get(0);
        long c = xs.get(1);
        NDArray out = model.apply(xt.concat(xt, 0), t.concat(t, 0), concat.apply(cond, nullOf.apply(cond)));
        Shape os = out.getShape();
        boolean ok = os.dimension() == xs.dimension() && os.get(0) == 2 * b && (os.get(1) == c || os.get(1) == 2 * c);
        for (int i = 2; ok && i < xs.dimension(); i++) ok = os.get(i) == xs.get(i);
        if (!ok) {
            long[] want = xs.getShape().clone();  // Shape.getShape() is the live array
            want[0] = 2 * b;
            throw new IllegalArgumentException("guided denoiser output: expected shape " + new Shape(want)
                    + " (or 2C channels) for the batch [cond ; null cond], got " + os);
        }
        NDArray condOut = out.get(new NDIndex(":{}", b));
        NDArray uncondOut = out.get(new NDIndex("{}:", b));
        if (os.get(1) == c) return guide(condOut, uncondOut, scale);
        NDArray eps = guide(condOut.get(new NDIndex(":, :{}", c)), uncondOut.get(new NDIndex(":, :{}", c)), scale);
        return eps.concat(condOut.get(new NDIndex(":, {}:", c)), 1);
    }
}

package org.lesson8.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Activation;

import java.util.Random;

/** The transformer's position-wise MLP: Linear → GELU → Linear. */
public class Mlp extends Module {
    public final Linear fc1;
    public final Linear fc2;

    public Mlp(NDManager m, Random rng, long dim, long hidden) {
        super(m);
        fc1 = child("fc1", new Linear(m, rng, dim, hidden));
        fc2 = child("fc2", new Linear(m, rng, hidden, dim));
    }

    public NDArray forward(NDArray x) {
        return fc2.forward(Activation.gelu(fc1.forward(x)));
    }
}

package org.lesson8.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.pooling.Pool;
import org.lesson8.nn.ImageInput;
import org.lesson8.nn.Init;
import org.lesson8.nn.Linear;
import org.lesson8.nn.Module;

import java.util.Random;

/**
 * The baseline the lecture compares ViT with: a small CNN with the inductive biases ViT lacks
 * (locality, translation equivariance). conv3×3(32) → ReLU → maxpool → conv3×3(64) → ReLU → maxpool → FC(128) → FC(10).
 */
public class SmallCnn extends Module implements Classifier {
    public final NDArray w1, b1, w2, b2;
    public final Linear fc1, fc2;

    public SmallCnn(NDManager m, long seed) {
        super(m);
        Random rng = new Random(seed);
        w1 = param("conv1.weight", Init.heUniform(m, rng, new Shape(32, 1, 3, 3), 9), true);
        b1 = param("conv1.bias", m.zeros(new Shape(32)), false);
        w2 = param("conv2.weight", Init.heUniform(m, rng, new Shape(64, 32, 3, 3), 32 * 9), true);
        b2 = param("conv2.bias", m.zeros(new Shape(64)), false);
        fc1 = child("fc1", new Linear(m, rng, 64 * 7 * 7, 128));
        fc2 = child("fc2", new Linear(m, rng, 128, 10));
    }

    @Override
    public NDArray logits(NDArray x) {
        ImageInput.require(x, "the small CNN", 1, false, 28);
        Shape one = new Shape(1, 1);
        NDArray h = Conv2d.conv2d(x, w1, b1, one, one, one, 1).singletonOrThrow();
        h = Pool.maxPool2d(Activation.relu(h), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        h = Conv2d.conv2d(h, w2, b2, one, one, one, 1).singletonOrThrow();
        h = Pool.maxPool2d(Activation.relu(h), new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
        h = h.reshape(h.getShape().get(0), 64 * 7 * 7);
        return fc2.forward(Activation.relu(fc1.forward(h)));
    }
}
